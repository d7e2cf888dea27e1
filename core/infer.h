/* infer.h: shape and dtype inference over the whole graph, with constant folding. */
#ifndef MQ_INFER_H
#define MQ_INFER_H

#include "core/graph.h"

/* Sort g topologically, then infer every node in order and fold nodes whose inputs are all known.
 * Nodes without a definition (unsupported) make this fail: the importer checks support first. */
mq_status mq_graph_infer(mq_graph *g, int64_t max_elems, mq_err *err);

#endif

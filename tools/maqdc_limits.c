/* maqdc_limits.c: the limit options every maqdc command that reads a model takes (--max-rank,
 * --max-elems, --max-bytes, --max-nodes), parsed into the importer's caps (docs/ROBUSTNESS.md). */
#include "tools/maqdc_backends.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    long long lo, hi;
} limit_opts[] = {
    {"--max-rank", 1, MQ_MAX_RANK},
    {"--max-elems", 1, INT64_MAX},
    {"--max-bytes", 1, INT64_MAX},
    {"--max-nodes", 1, 2147483647},
};

int maqdc_limit_option(int argc, char **argv, int *i, mq_import_opts *o)
{
    const char *a = argv[*i], *v = NULL;
    int k = -1;
    for (int j = 0; j < (int)(sizeof limit_opts / sizeof limit_opts[0]); j++) {
        size_t n = strlen(limit_opts[j].name);
        if (!strncmp(a, limit_opts[j].name, n) && (a[n] == 0 || a[n] == '=')) {
            k = j;
            v = a[n] == '=' ? a + n + 1 : NULL;
            break;
        }
    }
    if (k < 0) return 0;
    if (!v) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "maqdc: %s needs a value\n", limit_opts[k].name);
            return -1;
        }
        v = argv[++*i];
    }
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || !end || *end || end == v || x < limit_opts[k].lo || x > limit_opts[k].hi) {
        fprintf(stderr, "maqdc: %s: '%s' is not a whole number in [%lld, %lld]\n", limit_opts[k].name, v,
                limit_opts[k].lo, limit_opts[k].hi);
        return -1;
    }
    switch (k) {
    case 0: o->max_rank = (int)x; break;
    case 1: o->max_elems = x; break;
    case 2: o->max_bytes = x; break;
    default: o->max_nodes = (int)x; break;
    }
    return 1;
}

const char *maqdc_limit_hint(mq_status st)
{
    return st == MQ_ERR_LIMIT ? " (a limit: raise it with --max-rank, --max-elems, --max-bytes or --max-nodes if the "
                                "model is trusted)"
                              : "";
}

void maqdc_usage_limits(FILE *f)
{
    fprintf(f, "  --max-rank R    refuse tensors of rank above R (default %d)\n"
               "  --max-elems N   refuse tensors of more than N elements (default %lld)\n"
               "  --max-bytes N   refuse a model whose file and external data exceed N bytes (default %lld)\n"
               "  --max-nodes N   refuse a model of more than N nodes, subgraphs included (default %d)\n",
            MQ_DEFAULT_MAX_RANK, (long long)MQ_DEFAULT_MAX_ELEMS, (long long)MQ_DEFAULT_MAX_BYTES,
            MQ_DEFAULT_MAX_NODES);
}

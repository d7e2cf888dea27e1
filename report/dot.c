/* dot.c: the graph as Graphviz dot (report.h): one box per running node (an exported ActQuant chain as
 * one), coloured by op kind, with shapes and states in the label; graph inputs and outputs as ellipses. */
#include "report/report.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

/* Text inside a dot "..." string: quotes and backslashes escaped, control characters dropped, at most
 * max bytes (then "..."). */
static int dot_text(mq_strbuf *b, const char *s, size_t max)
{
    int bad = 0;
    size_t i = 0;
    for (; s[i] && i < max && !bad; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') bad |= mq_sb_printf(b, "\\%c", c);
        else if (c >= 0x20) bad |= mq_sb_append(b, (const char *)&s[i], 1);
    }
    if (s[i] && !bad) bad |= mq_sb_printf(b, "...");
    return bad;
}

static const char *node_id(const mq_report_model *m, int i, char *buf, size_t n)
{
    int h = m->nodes[i].group >= 0 ? m->nodes[i].group : i;
    snprintf(buf, n, "n%d", h);
    return buf;
}

static int node_label(mq_strbuf *b, const mq_graph *g, const mq_report_model *m, int i)
{
    const mq_node *n = &g->nodes[i];
    const mq_report_node *r = &m->nodes[i];
    char sh[256];
    int bad = 0;
    const mq_node *last = r->group_end >= 0 ? &g->nodes[r->group_end] : n;
    bad |= dot_text(b, r->group_end >= 0 ? "ActQuant (Div Add Floor Clip Mul)" : n->op_type, 64);
    if (n->name[0]) {
        bad |= mq_sb_printf(b, "\\n");
        bad |= dot_text(b, n->name, 40);
    }
    if (last->n_out > 0 && last->out[0] >= 0)
        bad |= mq_sb_printf(b, "\\n%s", mq_shape_str(&g->tensors[last->out[0]], sh, sizeof sh));
    if (r->weight >= 0)
        bad |= mq_sb_printf(b, "\\nW %s", mq_shape_str(&g->tensors[r->weight], sh, sizeof sh));
    if (r->w_states) bad |= mq_sb_printf(b, "\\nw: %d states, %d bit", r->w_states, mq_report_bits(r->w_states));
    if (r->a_states) bad |= mq_sb_printf(b, "\\na: %d states, %d bit", r->a_states, mq_report_bits(r->a_states));
    return bad;
}

mq_status mq_report_dot(const mq_graph *g, const mq_report_model *m, mq_strbuf *b, mq_err *err)
{
    char id[32], id2[32], sh[256];
    int bad = mq_sb_printf(b, "digraph \"");
    bad |= dot_text(b, g->name && g->name[0] ? g->name : "model", 80);
    bad |= mq_sb_printf(b, "\" {\n"
                           "  graph [rankdir=TB, fontname=\"DejaVu Sans\", fontsize=10, nodesep=0.25, ranksep=0.3];\n"
                           "  node [shape=box, style=\"rounded,filled\", fontname=\"DejaVu Sans\", fontsize=9, "
                           "penwidth=0.8, margin=\"0.12,0.04\"];\n"
                           "  edge [color=\"#555555\", arrowsize=0.6];\n");
    for (int k = 0; k < g->n_inputs; k++) {
        const mq_tensor *t = &g->tensors[g->inputs[k]];
        bad |= mq_sb_printf(b, "  in%d [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=\"", k);
        bad |= dot_text(b, t->name, 40);
        bad |= mq_sb_printf(b, "\\n%s %s\"];\n", mq_dtype_name(t->dtype), mq_shape_str(t, sh, sizeof sh));
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_report_node *r = &m->nodes[i];
        if (!r->runs || (r->group >= 0 && r->group != i)) continue;
        bad |= mq_sb_printf(b, "  n%d [fillcolor=\"%s\", label=\"", i, mq_op_kind_color(r->kind));
        bad |= node_label(b, g, m, i);
        bad |= mq_sb_printf(b, "\"];\n");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (!m->nodes[i].runs) continue;
        node_id(m, i, id, sizeof id);
        for (int k = 0; k < n->n_in; k++) {
            int t = n->in[k], dup = 0;
            if (t < 0) continue;
            for (int j = 0; j < k; j++) dup |= n->in[j] == t;
            const mq_tensor *x = &g->tensors[t];
            if (dup) continue;
            if (x->is_input) {
                for (int q = 0; q < g->n_inputs; q++)
                    if (g->inputs[q] == t) bad |= mq_sb_printf(b, "  in%d -> %s;\n", q, id);
            } else if (x->producer >= 0 && m->nodes[x->producer].runs) {
                node_id(m, x->producer, id2, sizeof id2);
                if (strcmp(id, id2)) bad |= mq_sb_printf(b, "  %s -> %s;\n", id2, id);
            }
        }
    }
    for (int k = 0; k < g->n_outputs; k++) {
        const mq_tensor *t = &g->tensors[g->outputs[k]];
        bad |= mq_sb_printf(b, "  out%d [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=\"", k);
        bad |= dot_text(b, t->name, 40);
        bad |= mq_sb_printf(b, "\\n%s %s\"];\n", mq_dtype_name(t->dtype), mq_shape_str(t, sh, sizeof sh));
        if (t->producer >= 0 && m->nodes[t->producer].runs)
            bad |= mq_sb_printf(b, "  %s -> out%d;\n", node_id(m, t->producer, id, sizeof id), k);
        else if (t->is_input)
            for (int q = 0; q < g->n_inputs; q++)
                if (g->inputs[q] == g->outputs[k]) bad |= mq_sb_printf(b, "  in%d -> out%d;\n", q, k);
    }
    bad |= mq_sb_printf(b, "}\n");
    return bad ? mq_fail(err, MQ_ERR_NOMEM, "report: out of memory writing the dot graph") : MQ_OK;
}

/* html.c: the report page (report.h): one self-contained HTML file with inline CSS and SVG and no script:
 * summary, the Graphviz drawing, the per-layer table and chart, the arena timeline, fine-tuning curves. */
#include "report/report.h"

#include "core/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct page {
    mq_strbuf *b;
    int bad;
} page;

static void out(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(page *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    p->bad |= mq_sb_vprintf(p->b, fmt, ap);
    va_end(ap);
}

/* Text escaped for HTML (also inside attributes and SVG), at most max bytes then "...". */
static void esc(page *p, const char *s, size_t max)
{
    size_t i = 0;
    for (; s && s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<') out(p, "&lt;");
        else if (c == '>') out(p, "&gt;");
        else if (c == '&') out(p, "&amp;");
        else if (c == '"') out(p, "&quot;");
        else if (c == '\'') out(p, "&#39;");
        else if (c < 0x20) out(p, " ");
        else p->bad |= mq_sb_append(p->b, (const char *)&s[i], 1);
    }
    if (s && s[i]) out(p, "...");
}

static const char *human(double v, char *buf, size_t n)
{
    static const char *const units[] = {"", "K", "M", "G", "T"};
    int u = 0;
    while (fabs(v) >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    snprintf(buf, n, u ? "%.3g%s" : "%.0f%s", v, units[u]);
    return buf;
}

static const char *kib(double bytes, char *buf, size_t n)
{
    if (bytes < 1024) snprintf(buf, n, "%.0f B", bytes);
    else if (bytes < 1024 * 1024) snprintf(buf, n, "%.1f KiB", bytes / 1024);
    else snprintf(buf, n, "%.2f MiB", bytes / (1024 * 1024));
    return buf;
}

static const char *node_name(const mq_graph *g, int i, char *buf, size_t n)
{
    const mq_node *nd = &g->nodes[i];
    if (nd->name[0]) return nd->name;
    if (nd->n_out > 0 && nd->out[0] >= 0) return g->tensors[nd->out[0]].name;
    snprintf(buf, n, "n%d", i);
    return buf;
}

static const char *states_str(int s, char *buf, size_t n)
{
    if (s) snprintf(buf, n, "%d (%d bit)", s, mq_report_bits(s));
    else snprintf(buf, n, "float");
    return buf;
}

static void note(page *p, const char *what, const char *text)
{
    out(p, "<p class=\"note\"><b>");
    esc(p, what, 200);
    out(p, "</b> ");
    esc(p, text, 4000);
    out(p, "</p>\n");
}

static const char css[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:14px;color:#222;margin:24px auto;max-width:1180px;"
    "padding:0 16px}h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;"
    "padding-bottom:4px;margin-top:32px}table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;"
    "padding:3px 8px;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f3f3f3}.wide{overflow-x:auto}#layer-table{font-size:12px}#layer-table td:nth-child(2){"
    "max-width:300px;word-break:break-all}.note{background:#fff4d6;border-left:4px solid #e9b949;padding:6px 10px}"
    ".graph{overflow:auto;border:1px solid #ddd;max-height:1400px}.graph svg{max-width:100%;height:auto}"
    ".legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:12px;height:12px;"
    "border:1px solid #555;margin-right:4px;vertical-align:-1px}svg text{font-family:'DejaVu Sans',Arial,sans-serif}"
    ".small{color:#666;font-size:12px}\n";

static void legend(page *p)
{
    out(p, "<p class=\"legend\">");
    for (int k = 0; k < MQ_KIND_COUNT; k++)
        out(p, "<span><i style=\"background:%s\"></i>%s</span>", mq_op_kind_color((mq_op_kind)k),
            mq_op_kind_name((mq_op_kind)k));
    out(p, "</p>\n");
}

/* ---- summary ---------------------------------------------------------------------------------------- */

static void summary(page *p, const mq_graph *g, const mq_report_model *m, const mq_plan *plan, const char *plan_note,
                    const mq_report_inputs *in)
{
    char sh[256], h1[32], h2[32];
    out(p, "<table id=\"summary\">\n<tr><th>model</th><td>");
    esc(p, in->model_path, 1000);
    out(p, "</td></tr>\n<tr><th>graph</th><td>");
    esc(p, g->name, 200);
    out(p, " (producer ");
    esc(p, g->producer, 200);
    out(p, ", ir_version %lld, opsets", (long long)g->ir_version);
    for (int i = 0; i < g->n_opsets; i++) {
        out(p, " ");
        esc(p, g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx", 100);
        out(p, "=%lld", (long long)g->opsets[i].version);
    }
    out(p, ")</td></tr>\n");
    for (int io = 0; io < 2; io++) {
        int n = io ? g->n_outputs : g->n_inputs;
        const int *ids = io ? g->outputs : g->inputs;
        out(p, "<tr><th>%s</th><td>", io ? "outputs" : "inputs");
        for (int k = 0; k < n; k++) {
            const mq_tensor *t = &g->tensors[ids[k]];
            out(p, "%s", k ? "<br>" : "");
            esc(p, t->name, 200);
            out(p, " %s %s", mq_dtype_name(t->dtype), mq_shape_str(t, sh, sizeof sh));
        }
        out(p, "</td></tr>\n");
    }
    out(p, "<tr><th>nodes</th><td>%d (%d run, %d folded at import)</td></tr>\n", g->n_nodes, g->n_nodes - m->n_folded,
        m->n_folded);
    out(p, "<tr><th>parameters</th><td>%lld (%lld bytes)</td></tr>\n", (long long)m->stats.params,
        (long long)m->stats.param_bytes);
    if (m->stats.macs >= 0)
        out(p, "<tr><th>MACs</th><td>%lld (%s multiply-accumulates per run)</td></tr>\n", (long long)m->stats.macs,
            human((double)m->stats.macs, h1, sizeof h1));
    else
        out(p, "<tr><th>MACs</th><td>unknown (shapes known only at run time)</td></tr>\n");
    if (plan)
        out(p, "<tr><th>arena</th><td>%zu bytes (sum of intermediates %zu, largest %zu)</td></tr>\n", plan->arena_bytes,
            plan->sum_bytes, plan->largest_bytes);
    else {
        out(p, "<tr><th>arena</th><td>not static: ");
        esc(p, plan_note, 2000);
        out(p, "</td></tr>\n");
    }
    if (in->program_note) {
        out(p, "<tr><th>compiled</th><td>");
        esc(p, in->program_note, 2000);
        out(p, "</td></tr>\n");
    }
    out(p, "<tr><th>weights</th><td>%lld bytes as stored (%s); %lld bytes packed at the layers' states (%s, %.1fx)",
        (long long)m->float_bytes, kib((double)m->float_bytes, h1, sizeof h1), (long long)m->packed_bytes,
        kib((double)m->packed_bytes, h2, sizeof h2),
        m->packed_bytes > 0 ? (double)m->float_bytes / (double)m->packed_bytes : 1.0);
    out(p, "<br><span class=\"small\">%d of %d layers with quantized weights, %d activation quantizers</span>"
           "</td></tr>\n</table>\n",
        m->n_wq_layers, m->n_layers, m->n_aq);
}

/* ---- per-layer table and chart -------------------------------------------------------------------------- */

static void bar_panel(page *p, int x0, int w, const char *title, const double *v, const double *v2, int n, int top,
                      int rowh)
{
    double mx = 0;
    for (int i = 0; i < n; i++) mx = fmax(mx, fmax(v[i], v2 ? v2[i] : 0));
    out(p, "<text x=\"%d\" y=\"14\" font-size=\"12\" font-weight=\"bold\">%s</text>\n", x0, title);
    for (int i = 0; i < n; i++) {
        char h[32];
        int y = top + i * rowh;
        double bw = mx > 0 ? (w - 60) * v[i] / mx : 0;
        if (v2) {
            double bw2 = mx > 0 ? (w - 60) * v2[i] / mx : 0;
            out(p, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#cccccc\"><title>float: %.0f bytes</title>"
                   "</rect>\n", x0, y + 2, bw, rowh / 2 - 2, v[i]);
            out(p, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#e76f51\"><title>packed: %.0f bytes"
                   "</title></rect>\n", x0, y + rowh / 2, bw2, rowh / 2 - 2, v2[i]);
            out(p, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>\n", x0 + fmax(bw, bw2) + 3, y + rowh - 5,
                human(v2[i], h, sizeof h));
        } else {
            out(p, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#457b9d\"><title>%.0f</title></rect>\n",
                x0, y + 2, bw, rowh - 4, v[i]);
            out(p, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>\n", x0 + bw + 3, y + rowh - 5,
                human(v[i], h, sizeof h));
        }
    }
}

static void layers(page *p, const mq_graph *g, const mq_report_model *m)
{
    int n = m->n_layers;
    out(p, "<h2 id=\"layers\">Layers</h2>\n");
    if (n == 0) {
        note(p, "No layers:", "no node has parameters or multiply-accumulates.");
        return;
    }
    double *v = mq_calloc((size_t)n * 4, sizeof(double));
    int *idx = mq_malloc(sizeof(int) * (size_t)n);
    if (!v || !idx) {
        mq_free(v);
        mq_free(idx);
        p->bad = 1;
        return;
    }
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (mq_report_is_layer(m, i)) {
            const mq_report_node *r = &m->nodes[i];
            idx[k] = i;
            v[k] = r->macs > 0 ? (double)r->macs : 0;
            v[n + k] = (double)r->params;
            v[2 * n + k] = (double)r->float_bytes;
            v[3 * n + k] = (double)r->packed_bytes;
            k++;
        }
    const int rowh = 20, top = 24, lw = 250, pw = 280;
    out(p, "<p>Per layer (nodes with parameters or multiply-accumulates): MACs, parameters, and weight bytes as "
           "stored (grey) and packed at the layer's weight states (red; ceil(log2(states)) bits per weight, the "
           "other parameters as stored).</p>\n");
    out(p, "<svg id=\"layer-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
           "viewBox=\"0 0 %d %d\">\n", lw + 3 * pw, top + n * rowh + 6, lw + 3 * pw, top + n * rowh + 6);
    for (int j = 0; j < n; j++) {
        char nb[32];
        const mq_report_node *r = &m->nodes[idx[j]];
        if (j % 2 == 0)
            out(p, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f6f6f6\"/>\n", top + j * rowh,
                lw + 3 * pw, rowh);
        out(p, "<rect x=\"2\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\" stroke=\"#555\" stroke-width=\"0.5\"/>",
            top + j * rowh + 5, mq_op_kind_color(r->kind));
        out(p, "<text x=\"16\" y=\"%d\" font-size=\"11\">", top + j * rowh + 14);
        esc(p, node_name(g, idx[j], nb, sizeof nb), 30);
        out(p, "</text>\n");
    }
    bar_panel(p, lw, pw, "MACs", v, NULL, n, top, rowh);
    bar_panel(p, lw + pw, pw, "parameters", v + n, NULL, n, top, rowh);
    bar_panel(p, lw + 2 * pw, pw, "weight bytes: float / packed", v + 2 * n, v + 3 * n, n, top, rowh);
    out(p, "</svg>\n");

    out(p, "<div class=\"wide\"><table id=\"layer-table\">\n<tr><th>#</th><th>layer</th><th>op</th><th>output</th><th>weight</th>"
           "<th>parameters</th><th>MACs</th><th>float bytes</th><th>packed bytes</th><th>weight states</th>"
           "<th>activation states</th></tr>\n");
    int64_t sp = 0, sm = 0, sf = 0, sk = 0;
    for (int j = 0; j < n; j++) {
        int i = idx[j];
        const mq_node *nd = &g->nodes[i];
        const mq_report_node *r = &m->nodes[i];
        const mq_node *last = r->group_end >= 0 ? &g->nodes[r->group_end] : nd;
        char nb[32], sh[256], s1[32], s2[32];
        out(p, "<tr><td class=\"n\">%d</td><td>", i);
        esc(p, node_name(g, i, nb, sizeof nb), 60);
        out(p, "</td><td>");
        esc(p, r->group_end >= 0 ? "ActQuant (exported)" : nd->op_type, 60);
        out(p, "</td><td>%s</td>", last->n_out > 0 && last->out[0] >= 0 ? mq_shape_str(&g->tensors[last->out[0]], sh, sizeof sh) : "");
        out(p, "<td>%s</td>", r->weight >= 0 ? mq_shape_str(&g->tensors[r->weight], sh, sizeof sh) : "");
        out(p, "<td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>",
            (long long)r->params, (long long)(r->macs > 0 ? r->macs : 0), (long long)r->float_bytes,
            (long long)r->packed_bytes);
        out(p, "<td>%s</td><td>%s</td></tr>\n", r->weight >= 0 ? states_str(r->w_states, s1, sizeof s1) : "",
            r->a_states ? states_str(r->a_states, s2, sizeof s2) : r->out_a_states ? states_str(r->out_a_states, s2, sizeof s2) : "");
        sp += r->params;
        sm += r->macs > 0 ? r->macs : 0;
        sf += r->float_bytes;
        sk += r->packed_bytes;
    }
    out(p, "<tr><th></th><th>total</th><th></th><th></th><th></th><th class=\"n\">%lld</th><th class=\"n\">%lld</th>"
           "<th class=\"n\">%lld</th><th class=\"n\">%lld</th><th></th><th></th></tr>\n</table></div>\n",
        (long long)sp, (long long)sm, (long long)sf, (long long)sk);
    if (sp != m->stats.params)
        out(p, "<p class=\"small\">%lld parameters are read by no layer (constants of other nodes, or unused).</p>\n",
            (long long)(m->stats.params - sp));
    out(p, "<p class=\"small\">Activation states: of the layer itself if it is a quantizer, else of the activation "
           "quantizer its output reaches through normalization, elementwise, pooling and shape nodes.</p>\n");
    mq_free(v);
    mq_free(idx);
}

/* ---- arena timeline ------------------------------------------------------------------------------------- */

static void timeline(page *p, const mq_graph *g, const mq_report_model *m, const mq_plan *plan, const char *plan_note)
{
    out(p, "<h2 id=\"memory\">Memory: the arena over time</h2>\n");
    if (!plan) {
        note(p, "No static memory plan:", plan_note ? plan_note : "");
        return;
    }
    if (plan->n == 0 || plan->arena_bytes == 0) {
        note(p, "Empty arena:", "the model has no intermediate tensors to plan.");
        return;
    }
    int steps = g->n_nodes + 1; /* node indices, and the end (graph outputs stay until copied out) */
    /* the step where the live tensors hold the most bytes */
    size_t best = 0;
    int best_s = 0;
    for (int s = 0; s < steps; s++) {
        size_t live = 0;
        for (int e = 0; e < plan->n; e++)
            if (plan->t[e].first <= s && s <= plan->t[e].last) live += plan->t[e].size;
        if (live > best) {
            best = live;
            best_s = s;
        }
    }
    const double W = 1000, H = 380, L = 80, R = 20, T = 30, B = 40, pw = W - L - R, ph = H - T - B;
    double sx = pw / steps, sy = ph / (double)plan->arena_bytes;
    char h1[32], h2[32], nb[32];
    out(p, "<p>Every planned tensor as a rectangle: x is the steps it is alive (from the node that writes it to the "
           "last node that reads it; the step after the last node is the copy-out of the outputs), y its bytes in the "
           "arena (offset to offset + size). Colour: the op kind of the writing node. Hover for names.</p>\n");
    out(p, "<svg id=\"arena\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
           "%.0f\">\n", W, H, W, H);
    out(p, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" stroke=\"#999\"/>\n", L, T, pw, ph);
    for (int k = 0; k <= 4; k++) {
        double bytes = (double)plan->arena_bytes * k / 4, y = T + ph - bytes * sy;
        out(p, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n",
            L, L + pw, y, y, L - 4, y + 3, kib(bytes, h1, sizeof h1));
    }
    int xstep = steps > 20 ? (steps + 9) / 10 : 1;
    for (int s = 0; s < steps; s += xstep)
        out(p, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%d</text>\n", L + (s + 0.5) * sx,
            T + ph + 14, s);
    out(p, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">step (node index)</text>\n", L + pw / 2,
        H - 6);
    for (int e = 0; e < plan->n; e++) {
        const mq_plan_tensor *t = &plan->t[e];
        if (t->size == 0) continue;
        double x = L + t->first * sx, w = (t->last - t->first + 1) * sx;
        double y = T + ph - (double)(t->offset + t->size) * sy, h = fmax((double)t->size * sy, 0.8);
        out(p, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" stroke=\"#333\" "
               "stroke-width=\"0.5\"><title>", x, y, w, h, mq_op_kind_color(m->nodes[t->first].kind));
        esc(p, g->tensors[t->tensor].name, 120);
        out(p, ": %zu bytes at offset %zu, steps %d..%d (written by ", t->size, t->offset, t->first, t->last);
        esc(p, node_name(g, t->first, nb, sizeof nb), 80);
        out(p, ")%s</title></rect>\n", t->reuses >= 0 ? ", in place of its input" : "");
    }
    double yp = T + ph - (double)plan->arena_bytes * sy, xb = L + (best_s + 0.5) * sx;
    out(p, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d62828\" stroke-width=\"1.5\" "
           "stroke-dasharray=\"6 3\"/>\n", L, L + pw, yp, yp);
    out(p, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#d62828\" text-anchor=\"end\">arena peak %zu bytes"
           "</text>\n", L + pw, yp - 4, plan->arena_bytes);
    out(p, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#1d3557\" stroke-width=\"1\" "
           "stroke-dasharray=\"3 3\"/>\n", xb, xb, T, T + ph);
    out(p, "</svg>\n");
    out(p, "<p>Arena peak <b>%zu bytes</b> (%s) for %d tensors whose sum is %zu bytes (%s; largest %zu), %d of them in "
           "place of their input. Most bytes alive at once: %zu at step %d", plan->arena_bytes,
        kib((double)plan->arena_bytes, h1, sizeof h1), plan->n, plan->sum_bytes, kib((double)plan->sum_bytes, h2, sizeof h2),
        plan->largest_bytes, plan->n_inplace, best, best_s);
    if (best_s < g->n_nodes) {
        out(p, " (");
        esc(p, node_name(g, best_s, nb, sizeof nb), 80);
        out(p, ", dotted line)");
    }
    out(p, ".</p>\n");
}

/* ---- fine-tuning ---------------------------------------------------------------------------------------- */

typedef struct series {
    const char *name, *color;
    int dashed;
    double (*get)(const mq_trainlog_row *r);
} series;

static double g_tl(const mq_trainlog_row *r) { return r->train_loss; }
static double g_vl(const mq_trainlog_row *r) { return r->val_loss; }
static double g_ta(const mq_trainlog_row *r) { return r->train_acc; }
static double g_va(const mq_trainlog_row *r) { return r->val_acc; }

static void line_chart(page *p, const char *id, const char *title, const mq_trainlog *log, const series *s, int ns,
                       double flt, const char *flt_name)
{
    const double W = 520, H = 280, L = 60, R = 20, T = 28, B = 40, pw = W - L - R, ph = H - T - B;
    int e0 = -1, e1 = -1;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < log->n; i++) {
        const mq_trainlog_row *r = &log->rows[i];
        if (r->phase != MQ_LOG_TRAIN) continue;
        if (e0 < 0 || r->epoch < e0) e0 = r->epoch;
        if (r->epoch > e1) e1 = r->epoch;
        for (int k = 0; k < ns; k++) {
            double v = s[k].get(r);
            if (isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    }
    if (isfinite(flt)) {
        lo = fmin(lo, flt);
        hi = fmax(hi, flt);
    }
    if (!(lo <= hi)) lo = 0, hi = 1;
    double pad = hi > lo ? 0.08 * (hi - lo) : fmax(0.05 * fabs(hi), 0.01);
    lo -= pad;
    hi += pad;
    double sx = e1 > e0 ? pw / (e1 - e0) : 0, sy = ph / (hi - lo);
#define X(e) (e1 > e0 ? L + ((e) - e0) * sx : L + pw / 2)
#define Y(v) (T + ph - ((v) - lo) * sy)
    out(p, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
        id, W, H, W, H);
    out(p, "<text x=\"%.0f\" y=\"16\" font-size=\"12\" font-weight=\"bold\">%s</text>\n", L, title);
    out(p, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" stroke=\"#999\"/>\n", L, T, pw, ph);
    for (int k = 0; k <= 4; k++) {
        double v = lo + (hi - lo) * k / 4;
        out(p, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/><text x=\"%.1f\" y=\"%.1f\" "
               "font-size=\"10\" text-anchor=\"end\">%.4g</text>\n", L, L + pw, Y(v), Y(v), L - 4, Y(v) + 3, v);
    }
    int estep = e1 - e0 > 10 ? (e1 - e0 + 9) / 10 : 1;
    for (int e = e0; e >= 0 && e <= e1; e += estep)
        out(p, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%d</text>\n", X(e), T + ph + 14, e);
    out(p, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">epoch</text>\n", L + pw / 2, H - 6);
    double ly = T + 12;
    if (isfinite(flt)) {
        out(p, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#6c757d\" stroke-dasharray=\"6 4\"/>\n", L,
            L + pw, Y(flt), Y(flt));
        out(p, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#6c757d\" text-anchor=\"end\">%s %.4f</text>\n",
            L + pw - 4, Y(flt) - 4, flt_name, flt);
    }
    for (int k = 0; k < ns; k++) {
        int any = 0;
        out(p, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", s[k].color,
            s[k].dashed ? " stroke-dasharray=\"5 3\"" : "");
        for (int i = 0; i < log->n; i++) {
            const mq_trainlog_row *r = &log->rows[i];
            double v = s[k].get(r);
            if (r->phase != MQ_LOG_TRAIN || !isfinite(v)) continue;
            out(p, "%.1f,%.1f ", X(r->epoch), Y(v));
            any = 1;
        }
        out(p, "\"/>\n");
        for (int i = 0; i < log->n; i++) {
            const mq_trainlog_row *r = &log->rows[i];
            double v = s[k].get(r);
            if (r->phase != MQ_LOG_TRAIN || !isfinite(v)) continue;
            out(p, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s, epoch %d: %.4f</title></circle>\n",
                X(r->epoch), Y(v), s[k].color, s[k].name, r->epoch, v);
        }
        if (any) {
            out(p, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" "
                   "font-size=\"10\">%s</text>\n", L + 8, ly - 9, s[k].color, L + 22, ly, s[k].name);
            ly += 14;
        }
    }
#undef X
#undef Y
    out(p, "</svg>\n");
}

static void cell(page *p, double v, const char *fmt)
{
    if (isfinite(v)) out(p, fmt, v);
    else out(p, "<td class=\"n\">&ndash;</td>");
}

static void finetune(page *p, const mq_report_model *m, const mq_report_inputs *in)
{
    out(p, "<h2 id=\"finetune\">Fine-tuning</h2>\n");
    const mq_trainlog *log = in->log;
    const mq_trainlog_row *flt = NULL, *last = NULL;
    for (int i = 0; log && i < log->n; i++) {
        if (log->rows[i].phase == MQ_LOG_FLOAT) flt = &log->rows[i];
        else if (!last || log->rows[i].epoch > last->epoch) last = &log->rows[i];
    }
    if (!log || !last) {
        if (in->log_note) note(p, "No fine-tuning section:", in->log_note);
        else if (log) note(p, "No fine-tuning section:", "the log has no epochs.");
        else
            note(p, "No fine-tuning log given:", "`maqdc finetune` writes one (--log FILE, by default next to the "
                                                  "output); pass it with `maqdc report MODEL --log FILE`.");
        return;
    }
    out(p, "<p>From ");
    esc(p, in->log_path, 1000);
    out(p, ": %d epochs.</p>\n", last->epoch);
    char h1[32], h2[32];
    out(p, "<table id=\"compare\">\n<tr><th></th><th>float model</th><th>fine-tuned (this model)</th><th>change</th>"
           "</tr>\n<tr><th>validation accuracy</th>");
    double fa = flt ? flt->val_acc : NAN, qa = last->val_acc;
    cell(p, fa, "<td class=\"n\">%.4f</td>");
    cell(p, qa, "<td class=\"n\">%.4f</td>");
    cell(p, qa - fa, "<td class=\"n\">%+.4f</td>");
    out(p, "</tr>\n<tr><th>weight bytes (float32 / packed)</th><td class=\"n\">%lld (%s)</td><td class=\"n\">%lld (%s)</td>"
           "<td class=\"n\">%.1fx smaller</td></tr>\n</table>\n",
        (long long)m->float_bytes, kib((double)m->float_bytes, h1, sizeof h1), (long long)m->packed_bytes,
        kib((double)m->packed_bytes, h2, sizeof h2), m->packed_bytes > 0 ? (double)m->float_bytes / (double)m->packed_bytes : 1.0);
    if (!flt) out(p, "<p class=\"small\">The log has no float row (it is written when fine-tuning has a validation set).</p>\n");
    if (!isfinite(qa)) out(p, "<p class=\"small\">No validation accuracy in the log: fine-tuning ran without --val-images.</p>\n");
    static const series loss[] = {{"train loss", "#457b9d", 0, g_tl}, {"validation loss", "#e76f51", 0, g_vl}};
    static const series acc[] = {{"train accuracy", "#457b9d", 0, g_ta}, {"validation accuracy", "#e76f51", 0, g_va}};
    line_chart(p, "loss-chart", "loss per epoch", log, loss, 2, flt ? flt->val_loss : NAN, "float model");
    line_chart(p, "acc-chart", "accuracy per epoch", log, acc, 2, fa, "float model");
    out(p, "<table id=\"epochs\">\n<tr><th>phase</th><th>epoch</th><th>step</th><th>lr</th><th>train loss</th>"
           "<th>train acc</th><th>val loss</th><th>val acc</th><th>images/s</th><th>seconds</th></tr>\n");
    for (int i = 0; i < log->n; i++) {
        const mq_trainlog_row *r = &log->rows[i];
        out(p, "<tr><td>%s</td><td class=\"n\">%d</td><td class=\"n\">%lld</td>", r->phase == MQ_LOG_FLOAT ? "float" : "train",
            r->epoch, r->step);
        cell(p, r->lr, "<td class=\"n\">%.3g</td>");
        cell(p, r->train_loss, "<td class=\"n\">%.4f</td>");
        cell(p, r->train_acc, "<td class=\"n\">%.4f</td>");
        cell(p, r->val_loss, "<td class=\"n\">%.4f</td>");
        cell(p, r->val_acc, "<td class=\"n\">%.4f</td>");
        cell(p, r->images_per_s, "<td class=\"n\">%.0f</td>");
        cell(p, r->seconds, "<td class=\"n\">%.1f</td>");
        out(p, "</tr>\n");
    }
    out(p, "</table>\n");
}

/* ---- the page ------------------------------------------------------------------------------------------- */

mq_status mq_report_html(const mq_graph *g, const mq_report_model *m, const mq_plan *plan, const char *plan_note,
                         const mq_report_inputs *in, mq_strbuf *b, mq_err *err)
{
    page pg = {b, 0}, *p = &pg;
    out(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>maqd report: ");
    esc(p, in->model_path, 300);
    out(p, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>maqd report: ", css);
    esc(p, in->model_path, 300);
    out(p, "</h1>\n<p class=\"small\">Written by <code>maqdc report</code>. Sections: <a href=\"#graph\">graph</a>, "
           "<a href=\"#layers\">layers</a>, <a href=\"#memory\">memory</a>, <a href=\"#finetune\">fine-tuning</a>."
           "</p>\n");
    summary(p, g, m, plan, plan_note, in);
    out(p, "<h2 id=\"graph\">Graph</h2>\n");
    legend(p);
    if (in->graph_svg) {
        const char *s = strstr(in->graph_svg, "<svg");
        out(p, "<div class=\"graph\">\n%s</div>\n", s ? s : "");
    } else
        note(p, "No drawing:", in->graph_note ? in->graph_note : "Graphviz did not run.");
    layers(p, g, m);
    timeline(p, g, m, plan, plan_note);
    finetune(p, m, in);
    out(p, "</body>\n</html>\n");
    return pg.bad ? mq_fail(err, MQ_ERR_NOMEM, "report: out of memory writing the page") : MQ_OK;
}

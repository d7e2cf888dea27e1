/* int_agree.c: the integer program against the fake-quantized float model it came from, on a whole
 * labelled test set: predicted-class agreement, accuracy of both, and the executor's integer logits
 * against the runtime's (.mqd) bit for bit. Exit 1 if agreement < --min-agree or any logit differs.
 * Usage: maqd-int-agree MODEL.onnx IMAGES LABELS [--scale S --mean M --std D] [--batch B] [--limit N]
 *        [--min-agree PERCENT] [--save-u8 FILE.npy --save-logits FILE.npy]  (first batch, for the C test)
 *        [--exec-limit N]  (the executor's integer run, compared with the runtime's, on the first N images
 *        only; the runtime's logits give the agreement on all; default: all) */
#include "backend/mqd_write.h"
#include "backend/program.h"
#include "core/exec.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "passes/int_lower.h"
#include "runtime/maqdrt.h"
#include "train/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int argmax(const float *v, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

static int fail(const char *what, mq_err *e)
{
    fprintf(stderr, "maqd-int-agree: %s: %s\n", what, e->msg);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: maqd-int-agree MODEL.onnx IMAGES LABELS [--scale S --mean M --std D] [--batch B] "
                        "[--limit N] [--min-agree P] [--save-u8 F.npy --save-logits F.npy]\n");
        return 2;
    }
    const char *model = argv[1], *images = argv[2], *labels = argv[3], *save_u8 = NULL, *save_logits = NULL;
    float S = 255, M = 0, D = 1;
    int B = 100;
    long limit = -1, exec_limit = -1;
    double min_agree = 99.9;
    for (int i = 4; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--scale")) S = strtof(v, NULL);
        else if (!strcmp(a, "--mean")) M = strtof(v, NULL);
        else if (!strcmp(a, "--std")) D = strtof(v, NULL);
        else if (!strcmp(a, "--batch")) B = atoi(v);
        else if (!strcmp(a, "--limit")) limit = atol(v);
        else if (!strcmp(a, "--exec-limit")) exec_limit = atol(v);
        else if (!strcmp(a, "--min-agree")) min_agree = atof(v);
        else if (!strcmp(a, "--save-u8")) save_u8 = v;
        else if (!strcmp(a, "--save-logits")) save_logits = v;
        else {
            fprintf(stderr, "maqd-int-agree: unknown option %s\n", a);
            return 2;
        }
    }
    if (B < 1 || B > 10000 || exec_limit == 0) return 2;
    mq_err err = {0};
    char pin[64];
    snprintf(pin, sizeof pin, "batch=%d", B);
    const char *pins[1] = {pin};
    mq_import_opts io = {.n_shapes = 1, .shapes = pins};
    mq_import_result rf = {0}, ri = {0};
    if (mq_import_onnx_file(model, &io, &rf, &err) != MQ_OK || mq_import_onnx_file(model, &io, &ri, &err) != MQ_OK)
        return fail(model, &err);
    mq_int_opts iopts = {.in_scale = S, .in_mean = M, .in_std = D};
    mq_int_stats ist;
    if (mq_int_lower(ri.graph, &iopts, &ist, &err) != MQ_OK) return fail("lowering", &err);
    mq_program prog;
    void *mqd = NULL;
    size_t mqd_len = 0;
    if (mq_program_build(ri.graph, NULL, &prog, &err) != MQ_OK || mq_mqd_write(&prog, &mqd, &mqd_len, &err) != MQ_OK)
        return fail("compiling", &err);
    void *buf = aligned_alloc(16, (mqd_len + 15) / 16 * 16);
    memcpy(buf, mqd, mqd_len);
    mqr_model rm;
    mqr_status rs = mqr_load(&rm, buf, mqd_len);
    if (rs != MQR_OK) {
        fprintf(stderr, "maqd-int-agree: load: %s\n", mqr_status_str(rs));
        return 2;
    }
    void *arena = aligned_alloc(16, (mqr_arena_size(&rm) + 15) / 16 * 16 + 16);

    mq_data_opts raw, norm;
    mq_data_opts_init(&raw);
    raw.scale = 1;
    raw.batch = B;
    norm = raw;
    norm.scale = S;
    norm.n_mean = norm.n_std = 1;
    norm.mean[0] = M;
    norm.std[0] = D;
    mq_dataset *dr = NULL, *dn = NULL;
    if (mq_data_open(images, labels, &raw, &dr, &err) != MQ_OK || mq_data_open(images, labels, &norm, &dn, &err) != MQ_OK)
        return fail(images, &err);
    mq_data_info info;
    mq_data_get_info(dr, &info);
    size_t per = info.sample_floats;
    const mq_tensor *gin = &rf.graph->tensors[rf.graph->inputs[0]];
    const mq_tensor *gout = &rf.graph->tensors[rf.graph->outputs[0]];
    int classes = (int)gout->dims[1];
    float *xr = malloc(sizeof(float) * per * (size_t)B), *xn = malloc(sizeof(float) * per * (size_t)B);
    uint8_t *xu = malloc(per * (size_t)B);
    float *lrt = malloc(sizeof(float) * (size_t)classes * (size_t)B);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)B);
    mq_data_epoch_begin(dr, 0, 0);
    mq_data_epoch_begin(dn, 0, 0);
    long seen = 0, agree = 0, ok_f = 0, ok_i = 0, bit_diff = 0, exec_seen = 0;
    int n = 0, first = 1;
    while (limit < 0 || seen < limit) {
        if (mq_data_next_batch(dr, xr, y, &n, &err) != MQ_OK || mq_data_next_batch(dn, xn, NULL, &n, &err) != MQ_OK)
            return fail("data", &err);
        if (n < B) break; /* the model is compiled for B images (10,000 = 100 x 100) */
        for (size_t i = 0; i < per * (size_t)B; i++) xu[i] = (uint8_t)xr[i];
        mq_tensor tin = *gin, tiu = *gin, of = {0}, oi = {0};
        tin.data = xn;
        tiu.dtype = MQ_U8;
        tiu.data = xu;
        if (mq_exec_run(rf.graph, &tin, &of, &err) != MQ_OK) return fail("float model", &err);
        int with_exec = exec_limit < 0 || seen < exec_limit;
        if (with_exec && mq_exec_run(ri.graph, &tiu, &oi, &err) != MQ_OK) return fail("integer program (executor)", &err);
        const void *ins[1] = {xu};
        void *outs[1] = {lrt};
        if ((rs = mqr_run(&rm, arena, ins, outs)) != MQR_OK) {
            fprintf(stderr, "maqd-int-agree: run: %s\n", mqr_status_str(rs));
            return 2;
        }
        const float *lf = of.data, *li = lrt; /* the runtime's logits (equal to the executor's where both ran) */
        if (with_exec) {
            if (memcmp(oi.data, lrt, sizeof(float) * (size_t)classes * (size_t)B)) bit_diff++;
            exec_seen += B;
        }
        for (int b = 0; b < B; b++) {
            int pf = argmax(lf + b * classes, classes), pi = argmax(li + b * classes, classes);
            agree += pf == pi;
            ok_f += pf == y[b];
            ok_i += pi == y[b];
        }
        if (first && save_u8 && save_logits) {
            mq_tensor a = tiu, l = oi;
            a.name = "input";
            l.name = "logits";
            if (mq_tensor_write_npy(save_u8, &a, &err) != MQ_OK || mq_tensor_write_npy(save_logits, &l, &err) != MQ_OK)
                return fail("saving", &err);
        }
        first = 0;
        seen += B;
        mq_free(of.data);
        mq_free(oi.data);
    }
    double pa = seen ? 100.0 * agree / seen : 0;
    printf("%s: %ld images; integer program: %d layers (%d quantized, %d wide), %zu weight bytes\n", model, seen,
           ist.layers, ist.exact_layers, ist.wide_layers, ist.weight_bytes);
    printf("accuracy: fake-quant float %.2f %%, integer %.2f %%; predicted class agreement %.3f %% (%ld / %ld)\n",
           100.0 * ok_f / (seen ? seen : 1), 100.0 * ok_i / (seen ? seen : 1), pa, agree, seen);
    printf("integer logits, executor vs runtime (.mqd), %ld images: %s\n", exec_seen,
           bit_diff ? "DIFFER" : "identical bit for bit");
    free(xr), free(xn), free(xu), free(lrt), free(y), free(arena), free(buf);
    mq_free(mqd);
    mq_program_free(&prog);
    mq_data_close(dr);
    mq_data_close(dn);
    mq_import_result_free(&rf);
    mq_import_result_free(&ri);
    return seen > 0 && exec_seen > 0 && pa >= min_agree && !bit_diff ? 0 : 1;
}

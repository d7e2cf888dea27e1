/* status.h: errors are values. Every fallible function returns an mq_status and records a message in
 * an mq_err; the library never prints and never exits (only tools/ does). */
#ifndef MQ_STATUS_H
#define MQ_STATUS_H

typedef enum mq_status {
    MQ_OK = 0,
    MQ_ERR_IO,          /* file missing, unreadable, unwritable */
    MQ_ERR_PARSE,       /* bytes that are not what they claim to be (protobuf, .npy, IDX, ...) */
    MQ_ERR_UNSUPPORTED, /* valid input we do not handle: op, opset, dtype, attribute value */
    MQ_ERR_INVALID,     /* malformed model or argument: missing tensor, cycle, bad attribute */
    MQ_ERR_SHAPE,       /* shape or dtype mismatch */
    MQ_ERR_NOMEM,       /* allocation failed */
    MQ_ERR_LIMIT        /* a configured cap (rank, element count, bytes, nodes) was exceeded */
} mq_status;

#define MQ_ERR_MSG_MAX 4096

typedef struct mq_err {
    mq_status code;
    char msg[MQ_ERR_MSG_MAX];
} mq_err;

struct mq_node;

/* Record an error and return its code: `return mq_fail(err, MQ_ERR_IO, "cannot open %s", path);`.
 * err may be NULL. A second failure does not overwrite the first message. */
mq_status mq_fail(mq_err *err, mq_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, prefixed with the node's name and op type: "node 'conv1' (Conv): ...". */
mq_status mq_node_fail(mq_err *err, const struct mq_node *node, mq_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefix an already recorded message (e.g. with a file name). */
void mq_err_prefix(mq_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mq_err_clear(mq_err *err);
const char *mq_status_name(mq_status s);

#define MQ_TRY(expr)                                                                               \
    do {                                                                                           \
        mq_status mq_try_s_ = (expr);                                                              \
        if (mq_try_s_ != MQ_OK) return mq_try_s_;                                                  \
    } while (0)

#endif

/* status.c: recording error messages as values (see status.h). */
#include "core/status.h"
#include "core/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vrecord(mq_err *err, mq_status code, const char *prefix, const char *fmt, va_list ap)
{
    if (!err || err->code != MQ_OK) return;
    err->code = code;
    size_t n = 0;
    if (prefix) {
        snprintf(err->msg, sizeof err->msg, "%s", prefix);
        n = strlen(err->msg);
    }
    vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
}

mq_status mq_fail(mq_err *err, mq_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

mq_status mq_node_fail(mq_err *err, const mq_node *node, mq_status code, const char *fmt, ...)
{
    char prefix[512];
    if (node)
        snprintf(prefix, sizeof prefix, "node '%s' (%s%s%s): ", node->name ? node->name : "",
                 node->domain && node->domain[0] ? node->domain : "",
                 node->domain && node->domain[0] ? "::" : "", node->op_type ? node->op_type : "?");
    else
        prefix[0] = 0;
    va_list ap;
    va_start(ap, fmt);
    vrecord(err, code, prefix, fmt, ap);
    va_end(ap);
    return code;
}

void mq_err_prefix(mq_err *err, const char *fmt, ...)
{
    if (!err) return;
    char prefix[1024], old[MQ_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t pl = strlen(prefix);
    if (pl >= sizeof err->msg) pl = sizeof err->msg - 1;
    memcpy(err->msg, prefix, pl);
    size_t ol = strlen(old);
    if (ol > sizeof err->msg - 1 - pl) ol = sizeof err->msg - 1 - pl;
    memcpy(err->msg + pl, old, ol);
    err->msg[pl + ol] = 0;
}

void mq_err_clear(mq_err *err)
{
    if (!err) return;
    err->code = MQ_OK;
    err->msg[0] = 0;
}

const char *mq_status_name(mq_status s)
{
    switch (s) {
    case MQ_OK: return "ok";
    case MQ_ERR_IO: return "I/O error";
    case MQ_ERR_PARSE: return "parse error";
    case MQ_ERR_UNSUPPORTED: return "unsupported";
    case MQ_ERR_INVALID: return "invalid";
    case MQ_ERR_SHAPE: return "shape error";
    case MQ_ERR_NOMEM: return "out of memory";
    case MQ_ERR_LIMIT: return "limit exceeded";
    }
    return "unknown";
}

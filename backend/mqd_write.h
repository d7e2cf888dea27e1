/* mqd_write.h: the packed-binary backend: a lowered program (backend/program.h) as the bytes of a .mqd
 * file (docs/MQD_FORMAT.md), which runtime/ loads and runs. */
#ifndef MQ_MQD_WRITE_H
#define MQ_MQD_WRITE_H

#include "backend/program.h"

/* Serialize p. On success *buf is mq_malloc'ed (*len bytes; free with mq_free). Fails with
 * MQ_ERR_LIMIT if something does not fit the format's 32-bit fields, MQ_ERR_INVALID if p does not
 * meet the format's rules (arena alignment below 16 or below an element size). */
mq_status mq_mqd_write(const mq_program *p, void **buf, size_t *len, mq_err *err);
/* Serialize p and write it to path atomically. */
mq_status mq_mqd_write_file(const mq_program *p, const char *path, mq_err *err);

#endif

/*
 * readiness.c: the words for each reason a pod is not ready (readiness.h).
 * Operators and the process tests grep these, so they change only on purpose.
 */
#include "node/readiness.h"

static const char *const READINESS_TEXT[READINESS__COUNT] = {
    [READINESS_READY] = "",
    [READINESS_DRAINING] = "draining (shutting down)",
    [READINESS_DATA_DIR] = "the data dir cannot be written",
    [READINESS_STARTING] = "starting",
    [READINESS_SYNCING] = "syncing: waiting for a peer's whole table",
    [READINESS_STORE_FAILING] = "the count file cannot be written",
};

const char *readiness_str(enum readiness r)
{
    return (unsigned)r < READINESS__COUNT ? READINESS_TEXT[r] : "?";
}

/*
 * readiness.h: why a pod is not ready, as a value. daemon.c decides the
 * reason (tallyd_not_ready), routes.c and metrics.c show it; the words live
 * in one table (readiness.c), so what /readyz says and what code tests for
 * cannot drift apart.
 */
#ifndef TALLY_READINESS_H
#define TALLY_READINESS_H

enum readiness {
    READINESS_READY = 0,
    READINESS_DRAINING,      /* SIGTERM: answering what is in flight, then exit */
    READINESS_DATA_DIR,      /* started without a writable data dir: HTTP only */
    READINESS_STARTING,      /* the store or gossip is not up yet */
    READINESS_SYNCING,       /* waiting for a peer's whole table (--recovery-wait) */
    READINESS_STORE_FAILING, /* --sync always and the count file cannot be written */
    READINESS__COUNT
};

/* The reason in words, as /readyz and /status say it after "not ready: "
 * ("" for READINESS_READY, "?" for a value outside the enum). */
const char *readiness_str(enum readiness r);

#endif

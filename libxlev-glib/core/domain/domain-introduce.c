/* domain-introduce.c: DOMAIN_INTRODUCE generators
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The introduce generators of a context (ds->intros, see domain-private.h)
 * share one `@introduceDomain` watch (and a subscription to the
 * `@releaseDomain` one, release.c), and the set of domids already reported or present at
 * the start (known[], sorted); a domid xenstored dropped leaves it at the
 * next @releaseDomain. Each generator keeps a copy of known[] as it was
 * when enabled (present[]): the domains it will not report. known[] is
 * intro_lock's; how that lock makes each domain either present or
 * reported to a generator is under "Locking" in domain-private.h.
 *
 * A domain counts once it is both introduced and has its /local/domain
 * directory. A toolstack usually writes the directory first, so the scan
 * on `@introduceDomain` finds it; one that introduces first and writes
 * the directory after would otherwise be reported only at the next
 * introduce, or never. So the generators also watch /local/domain
 * (local_watch): an event under /local/domain/<domid> for a domid neither
 * known nor in unintroduced[] asks xenstored (XS_IS_DOMAIN_INTRODUCED) and
 * reports the domain if it is introduced, or puts it in unintroduced[] (not
 * asked again until the next scan, which rebuilds unintroduced[] from what it
 * finds not introduced). Events of known domains cost a lookup, no round
 * trip. Both ways go through known[] under intro_lock, so a domain is
 * reported once, whichever finds it first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain-private.h"

struct xlev_evgen_domain_introduce {
    struct xlev__gen gen;
    struct xlev_evgen_domain_introduce *next, *prev;
    uint64_t user;
    /* known[] when it was enabled: what it does not report (sorted;
     * NULL when npresent is 0). Set before the generator is listed,
     * never changed after. */
    uint32_t *present;
    size_t npresent;
};

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int
known_has(const uint32_t *known, size_t n, uint32_t domid)
{
    return bsearch(&domid, known, n, sizeof(*known), cmp_u32) != NULL;
}

/* A malloc()ed copy of domids[n] in *copy_out (NULL when n is 0); 0 or
 * XLEV_ERROR_NOMEM. */
static int
domids_dup(const uint32_t *domids, size_t n, uint32_t **copy_out)
{
    *copy_out = NULL;
    if (!n)
        return 0;
    *copy_out = xlev__calloc(n, sizeof(**copy_out));
    if (!*copy_out)
        return XLEV_ERROR_NOMEM;
    memcpy(*copy_out, domids, n * sizeof(**copy_out));
    return 0;
}

/*
 * Lists /local/domain and works out which domids there are introduced
 * and new. intro_lock held (not ctx->lock: this talks to xenstored).
 * On success replaces known[] and returns the new domids in
 * *fresh_out and *nfresh_out (malloc()ed; NULL when none). A missing
 * /local/domain is an empty list.
 */
static int
introduce_scan(struct xlev__domain *ds, uint32_t **fresh_out,
               size_t *nfresh_out)
{
    xlev_ctx *ctx = ds->ctx;
    char **entries = NULL;
    unsigned int n = 0, i;
    uint32_t *now = NULL, *fresh = NULL, *waiting = NULL;
    size_t nnow = 0, nfresh = 0, nwaiting = 0;
    int rc, introduced;

    *fresh_out = NULL;
    *nfresh_out = 0;

    rc = xlev_xs_directory(ctx, XLEV__LOCAL_DOMAIN, &entries, &n);
    if (rc == XLEV_ERROR_NOENT) {
        n = 0;
        rc = 0;
    }
    if (rc)
        goto out;

    now = xlev__calloc(n ? n : 1, sizeof(*now));
    fresh = xlev__calloc(n ? n : 1, sizeof(*fresh));
    waiting = xlev__calloc(n ? n : 1, sizeof(*waiting));
    if (!now || !fresh || !waiting) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        unsigned long d;
        char *end;

        errno = 0;
        d = strtoul(entries[i], &end, 10);
        if (errno || *end || end == entries[i]
            || d >= XLEV__DOMID_FIRST_RESERVED)
            continue;
        if (ds->known_valid && known_has(ds->known, ds->nknown, (uint32_t)d)) {
            now[nnow++] = (uint32_t)d;
            continue;
        }
        /* New to us: count it once xenstored knows it (no ctx->lock; a
         * failed request counts as "not yet": it is asked again on the
         * next @introduceDomain). */
        if (xlev__xs_is_domain_introduced(ctx, (unsigned int)d, &introduced))
            continue;
        if (!introduced) {
            waiting[nwaiting++] = (uint32_t)d;
            continue;
        }
        now[nnow++] = (uint32_t)d;
        if (ds->known_valid)
            fresh[nfresh++] = (uint32_t)d;
    }
    qsort(now, nnow, sizeof(*now), cmp_u32);
    qsort(fresh, nfresh, sizeof(*fresh), cmp_u32);
    qsort(waiting, nwaiting, sizeof(*waiting), cmp_u32);

    free(ds->known);
    ds->known = now;
    ds->nknown = nnow;
    ds->known_valid = 1;
    now = NULL;
    free(ds->unintroduced);
    ds->unintroduced = waiting;
    ds->nunintroduced = nwaiting;
    waiting = NULL;
    if (nfresh) {
        *fresh_out = fresh;
        *nfresh_out = nfresh;
        fresh = NULL;
    }
    rc = 0;
out:
    free(entries);
    free(now);
    free(fresh);
    free(waiting);
    return rc;
}

/* Inserts @domid into the sorted set *set of *n (not there yet);
 * 0 or XLEV_ERROR_NOMEM. */
static int
domids_insert(uint32_t **set, size_t *n, uint32_t domid)
{
    uint32_t *grown = realloc(*set, (*n + 1) * sizeof(**set));
    size_t at = 0;

    if (!grown)
        return XLEV_ERROR_NOMEM;
    while (at < *n && grown[at] < domid)
        at++;
    memmove(&grown[at + 1], &grown[at], (*n - at) * sizeof(*grown));
    grown[at] = domid;
    *set = grown;
    (*n)++;
    return 0;
}

/* The domid of a path under /local/domain/<domid>, or -1 (the directory
 * itself, a name that is not a domid, a reserved domid). */
static long
domid_under_local_domain(const char *path)
{
    static const char prefix[] = XLEV__LOCAL_DOMAIN "/";
    unsigned long d;
    char *end;

    if (strncmp(path, prefix, sizeof(prefix) - 1))
        return -1;
    path += sizeof(prefix) - 1;
    if (*path < '0' || *path > '9')
        return -1;
    errno = 0;
    d = strtoul(path, &end, 10);
    if (errno || (*end && *end != '/') || d >= XLEV__DOMID_FIRST_RESERVED)
        return -1;
    return (long)d;
}

/*
 * A domain xenstored dropped (released while dying or gone) leaves the
 * known set at once, so that a new domain introduced with its domid is
 * news even if the toolstack kept its /local/domain directory. One
 * XS_IS_DOMAIN_INTRODUCED round trip per known domain, on each
 * @releaseDomain, and only while introduce generators exist. Takes
 * intro_lock; not ctx->lock.
 */
static void
introduce_forget_released(struct xlev__domain *ds)
{
    size_t i, kept = 0;

    pthread_mutex_lock(&ds->intro_lock);
    if (ds->known_valid) {
        for (i = 0; i < ds->nknown; i++) {
            uint32_t d = ds->known[i];

            int introduced;

            /* Forget a domain only when xenstored says it is gone; a
             * failed request keeps it. */
            if (d == 0
                || xlev__xs_is_domain_introduced(ds->ctx, d, &introduced)
                || introduced)
                ds->known[kept++] = d;
        }
        ds->nknown = kept; /* still sorted */
    }
    pthread_mutex_unlock(&ds->intro_lock);
}

static void
introduce_watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
                   const char *epath)
{
    struct xlev__domain *ds
        = CONTAINER_OF(w, struct xlev__domain, introduce_watch);
    struct xlev_evgen_domain_introduce *g;
    uint32_t *fresh = NULL;
    size_t nfresh = 0, i;
    int rc;

    pthread_mutex_lock(&ds->intro_lock);
    rc = introduce_scan(ds, &fresh, &nfresh);
    /* Queued to the generators listed now; a generator enabled after this
     * unlock has these domains in its present[] (see "Locking" in
     * domain-private.h). */
    XLEV__LOCK(ctx);
    pthread_mutex_unlock(&ds->intro_lock);
    if (rc)
        xlev__domain_disaster_locked(ds, rc == XLEV_ERROR_NOMEM ? ENOMEM : 0,
                                     "cannot list introduced domains: %s",
                                     xlev_strerror(rc));
    for (i = 0; i < nfresh; i++)
        for (g = ds->intros; g; g = g->next)
            xlev__domain_queue_event_locked(ds, &g->gen,
                                            XLEV_EVENT_TYPE_DOMAIN_INTRODUCE,
                                            fresh[i], g->user, NULL, NULL);
    free(fresh);
    xlev__domain_flush_locked(ds);
    XLEV__UNLOCK(ctx);
}

/* Something changed under /local/domain: a domain's directory may have
 * appeared after its introduce (see the top of this file). */
static void
local_watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
               const char *epath)
{
    struct xlev__domain *ds
        = CONTAINER_OF(w, struct xlev__domain, local_watch);
    struct xlev_evgen_domain_introduce *g;
    long d = domid_under_local_domain(epath);
    uint32_t domid;
    int introduced, rc;

    if (d < 0)
        return;
    domid = (uint32_t)d;

    pthread_mutex_lock(&ds->intro_lock);
    if (!ds->known_valid || known_has(ds->known, ds->nknown, domid)
        || (ds->nunintroduced && known_has(ds->unintroduced, ds->nunintroduced, domid))) {
        pthread_mutex_unlock(&ds->intro_lock);
        return;
    }
    /* A failed request counts as "not yet", as in the scan: the next
     * event or @introduceDomain asks again. */
    if (xlev__xs_is_domain_introduced(ctx, domid, &introduced)) {
        pthread_mutex_unlock(&ds->intro_lock);
        return;
    }
    rc = introduced ? domids_insert(&ds->known, &ds->nknown, domid)
                    : domids_insert(&ds->unintroduced, &ds->nunintroduced, domid);
    XLEV__LOCK(ctx);
    pthread_mutex_unlock(&ds->intro_lock);
    if (rc)
        xlev__domain_disaster_locked(ds, ENOMEM,
                                     "cannot follow the domain directory "
                                     "of %u: %s",
                                     domid, xlev_strerror(rc));
    else if (introduced)
        for (g = ds->intros; g; g = g->next)
            xlev__domain_queue_event_locked(ds, &g->gen,
                                            XLEV_EVENT_TYPE_DOMAIN_INTRODUCE,
                                            domid, g->user, NULL, NULL);
    xlev__domain_flush_locked(ds);
    XLEV__UNLOCK(ctx);
}

/* The part's teardown (see domain-private.h). */
static void
introduce_stop(struct xlev__domain *ds)
{
    xlev_ev_xswatch_deregister(ds->ctx, &ds->introduce_watch);
    xlev_ev_xswatch_deregister(ds->ctx, &ds->local_watch);
}

static void introduce_gen_free(struct xlev_evgen_domain_introduce *g);

static void
introduce_free(struct xlev__domain *ds)
{
    struct xlev_evgen_domain_introduce *g;

    while ((g = ds->intros)) {
        ds->intros = g->next;
        introduce_gen_free(g);
    }
    free(ds->known);
    free(ds->unintroduced);
}

static void
introduce_gen_free(struct xlev_evgen_domain_introduce *g)
{
    if (!g)
        return;
    free(g->present);
    free(g);
}

int
xlev_evenable_domain_introduce(xlev_ctx *ctx, uint64_t user,
                               xlev_evgen_domain_introduce **evgen_out)
{
    return xlev_evenable_domain_introduce_full(ctx, user, NULL, NULL,
                                               evgen_out);
}

int
xlev_evenable_domain_introduce_full(xlev_ctx *ctx, uint64_t user,
                                    const xlev_event_hooks *hooks,
                                    void *hooks_user,
                                    xlev_evgen_domain_introduce **evgen_out)
{
    struct xlev_evgen_domain_introduce *g = NULL;
    struct xlev__domain *ds;
    int listed = 0; /* g is on ds->intros */
    int rc;

    if (!ctx || !evgen_out)
        return XLEV_ERROR_INVAL;
    *evgen_out = NULL;
    if (xlev__domain_gen_hooks_check(hooks))
        return XLEV_ERROR_INVAL;
    ds = xlev__domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    pthread_mutex_lock(&ds->reg_lock);
    XLEV__LOCK(ctx);
    xlev__domain_add_part_locked(ds, &ds->intro_part, introduce_stop,
                                 introduce_free);
    XLEV__UNLOCK(ctx);

    g = xlev__calloc(1, sizeof(*g));
    if (!g) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    g->gen.hooks = hooks;
    g->gen.hooks_user = hooks ? hooks_user : NULL;
    g->user = user;

    /* The baseline: what is there now is not news. */
    pthread_mutex_lock(&ds->intro_lock);
    if (!ds->known_valid) {
        uint32_t *fresh;
        size_t nfresh;

        rc = introduce_scan(ds, &fresh, &nfresh);
        free(fresh); /* none: the first scan reports nothing */
    } else {
        rc = 0;
    }
    if (!rc) {
        rc = domids_dup(ds->known, ds->nknown, &g->present);
        if (!rc)
            g->npresent = ds->nknown;
    }
    if (rc) {
        pthread_mutex_unlock(&ds->intro_lock);
        goto out;
    }
    /* Listed before intro_lock is dropped: a scan after this reports its
     * news to g (see "Locking" in domain-private.h). */
    XLEV__LOCK(ctx);
    XLEV__GEN_LIST_PUSH(ds->intros, g);
    XLEV__UNLOCK(ctx);
    pthread_mutex_unlock(&ds->intro_lock);

    /* @releaseDomain too: see introduce_forget_released. */
    rc = xlev__domain_release_subscribe(ds, &ds->intro_release,
                                        introduce_forget_released);
    if (!rc && !xlev_ev_xswatch_isregistered(&ds->introduce_watch))
        rc = xlev_ev_xswatch_register(ctx, &ds->introduce_watch,
                                      introduce_watch_cb, "@introduceDomain");
    if (!rc && !xlev_ev_xswatch_isregistered(&ds->local_watch))
        rc = xlev_ev_xswatch_register(ctx, &ds->local_watch, local_watch_cb,
                                      XLEV__LOCAL_DOMAIN);
    if (rc) {
        listed = 1;
        goto out;
    }

    *evgen_out = g;
    g = NULL;
    rc = 0;
out:
    pthread_mutex_unlock(&ds->reg_lock);
    if (listed) {
        /* Retired without reg_lock: retiring may wait for a delivery of
         * g's events in another thread, whose hook may be enabling. */
        XLEV__LOCK(ctx);
        XLEV__GEN_LIST_REMOVE(ds->intros, g);
        xlev__domain_gen_retire_locked(ds, &g->gen);
        XLEV__UNLOCK(ctx);
    }
    introduce_gen_free(g);
    return rc;
}

int
xlev_evgen_domain_introduce_present(xlev_ctx *ctx,
                                    const xlev_evgen_domain_introduce *g,
                                    uint32_t **domids_out, size_t *n_out)
{
    uint32_t *copy;
    int rc;

    if (domids_out)
        *domids_out = NULL;
    if (n_out)
        *n_out = 0;
    if (!ctx || !g || !domids_out || !n_out)
        return XLEV_ERROR_INVAL;
    /* present[] never changes once the generator is enabled. */
    rc = domids_dup(g->present, g->npresent, &copy);
    if (rc)
        return rc;
    *domids_out = copy;
    *n_out = g->npresent;
    return 0;
}

void
xlev_evdisable_domain_introduce(xlev_ctx *ctx, xlev_evgen_domain_introduce *g)
{
    struct xlev__domain *ds;

    if (!ctx || !g)
        return;
    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (ds) {
        XLEV__GEN_LIST_REMOVE(ds->intros, g);
        xlev__domain_gen_retire_locked(ds, &g->gen);
    }
    XLEV__UNLOCK(ctx);
    introduce_gen_free(g);
}

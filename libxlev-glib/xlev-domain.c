/* xlev-domain.c: XlevDomain, one domain's name, uuid and state
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * A plain value object: XlevDomainList (xlev-domain-list.c) finds out what
 * changed and calls the setters here, in its context's main context, so
 * every `notify` is emitted there. The state only moves forward:
 * RUNNING -> SHUTDOWN -> DYING -> GONE, skipping any but GONE.
 */
#include "xlev-domain.h"
#include "xlev-domain-private.h"
#include "xlev-enums.h"

/**
 * XlevDomain:
 *
 * One Xen domain, as an [class@Xlev.DomainList] knows it: its domid, its
 * name and uuid as the toolstack wrote them into xenstore, and its state.
 *
 * The properties change, and `notify` is emitted, in the main context of
 * the list's [class@Xlev.Context]. A domain that has gone keeps its last
 * name and uuid, and its state stays [enum@Xlev.DomainState.GONE]: a new
 * domain that reuses the domid is a new object.
 *
 * Since: 1.0
 */
struct _XlevDomain {
    GObject parent_instance;

    guint domid;
    char *name;
    char *uuid;
    XlevDomainState state;
    XlevShutdownReason shutdown_reason;
};

G_DEFINE_FINAL_TYPE(XlevDomain, xlev_domain, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_DOMID,
    PROP_NAME,
    PROP_UUID,
    PROP_STATE,
    PROP_SHUTDOWN_REASON,
    N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
xlev_domain_finalize(GObject *object)
{
    XlevDomain *self = XLEV_DOMAIN(object);

    g_free(self->name);
    g_free(self->uuid);
    G_OBJECT_CLASS(xlev_domain_parent_class)->finalize(object);
}

static void
xlev_domain_get_property(GObject *object, guint prop_id, GValue *value,
                         GParamSpec *pspec)
{
    XlevDomain *self = XLEV_DOMAIN(object);

    switch (prop_id) {
    case PROP_DOMID:
        g_value_set_uint(value, self->domid);
        break;
    case PROP_NAME:
        g_value_set_string(value, self->name);
        break;
    case PROP_UUID:
        g_value_set_string(value, self->uuid);
        break;
    case PROP_STATE:
        g_value_set_enum(value, self->state);
        break;
    case PROP_SHUTDOWN_REASON:
        g_value_set_enum(value, self->shutdown_reason);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_domain_set_property(GObject *object, guint prop_id, const GValue *value,
                         GParamSpec *pspec)
{
    XlevDomain *self = XLEV_DOMAIN(object);

    switch (prop_id) {
    case PROP_DOMID:
        self->domid = g_value_get_uint(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_domain_class_init(XlevDomainClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = xlev_domain_finalize;
    object_class->get_property = xlev_domain_get_property;
    object_class->set_property = xlev_domain_set_property;

    /**
     * XlevDomain:domid:
     *
     * The domain's id.
     *
     * Since: 1.0
     */
    properties[PROP_DOMID] = g_param_spec_uint(
        "domid", NULL, NULL, 0, G_MAXUINT, 0,
        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomain:name:
     *
     * The domain's name, from its `/local/domain/<domid>/name` node, kept
     * up to date (a rename is seen); %NULL while unknown or if the
     * toolstack wrote none.
     *
     * Since: 1.0
     */
    properties[PROP_NAME] =
        g_param_spec_string("name", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomain:uuid:
     *
     * The domain's UUID in its usual text form, from the `vm` node the
     * toolstack writes (`/vm/<uuid>`); %NULL while unknown or if there is
     * none.
     *
     * Since: 1.0
     */
    properties[PROP_UUID] =
        g_param_spec_string("uuid", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomain:state:
     *
     * Where the domain is in its life. It only moves forward: running,
     * then shut down, then gone (or running, then gone).
     *
     * Since: 1.0
     */
    properties[PROP_STATE] = g_param_spec_enum(
        "state", NULL, NULL, XLEV_TYPE_DOMAIN_STATE, XLEV_DOMAIN_STATE_RUNNING,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomain:shutdown-reason:
     *
     * Why the domain shut down. Meaningful only once
     * [property@Xlev.Domain:state] has been
     * [enum@Xlev.DomainState.SHUTDOWN]; it is set, and notified, before
     * the state changes.
     *
     * Since: 1.0
     */
    properties[PROP_SHUTDOWN_REASON] = g_param_spec_enum(
        "shutdown-reason", NULL, NULL, XLEV_TYPE_SHUTDOWN_REASON,
        XLEV_SHUTDOWN_REASON_POWEROFF,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
xlev_domain_init(XlevDomain *self)
{
    self->state = XLEV_DOMAIN_STATE_RUNNING;
    self->shutdown_reason = XLEV_SHUTDOWN_REASON_POWEROFF;
}

XlevDomain *
xlev_domain_new(guint domid)
{
    return g_object_new(XLEV_TYPE_DOMAIN, "domid", domid, NULL);
}

static void
set_string(XlevDomain *self, char **field, const char *value, guint prop)
{
    if (g_strcmp0(*field, value) == 0)
        return;
    g_free(*field);
    *field = g_strdup(value);
    g_object_notify_by_pspec(G_OBJECT(self), properties[prop]);
}

void
xlev_domain_set_name(XlevDomain *self, const char *name)
{
    set_string(self, &self->name, name, PROP_NAME);
}

void
xlev_domain_set_uuid(XlevDomain *self, const char *uuid)
{
    set_string(self, &self->uuid, uuid, PROP_UUID);
}

void
xlev_domain_set_shutdown(XlevDomain *self, XlevShutdownReason reason)
{
    if (self->state != XLEV_DOMAIN_STATE_RUNNING)
        return;
    /* The reason first, so that a `notify::state` handler reads the new
     * one. */
    if (self->shutdown_reason != reason) {
        self->shutdown_reason = reason;
        g_object_notify_by_pspec(G_OBJECT(self),
                                 properties[PROP_SHUTDOWN_REASON]);
    }
    self->state = XLEV_DOMAIN_STATE_SHUTDOWN;
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
}

void
xlev_domain_set_dying(XlevDomain *self)
{
    if (self->state >= XLEV_DOMAIN_STATE_DYING)
        return;
    self->state = XLEV_DOMAIN_STATE_DYING;
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
}

void
xlev_domain_set_gone(XlevDomain *self)
{
    if (self->state == XLEV_DOMAIN_STATE_GONE)
        return;
    self->state = XLEV_DOMAIN_STATE_GONE;
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
}

/**
 * xlev_domain_get_domid:
 * @self: a domain
 *
 * Gets the domain's id.
 *
 * Returns: the domain's id
 *
 * Since: 1.0
 */
guint
xlev_domain_get_domid(XlevDomain *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN(self), 0);
    return self->domid;
}

/**
 * xlev_domain_get_name:
 * @self: a domain
 *
 * Gets the domain's name.
 *
 * Returns: (nullable): the domain's name, or %NULL if not known
 *
 * Since: 1.0
 */
const char *
xlev_domain_get_name(XlevDomain *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN(self), NULL);
    return self->name;
}

/**
 * xlev_domain_get_uuid:
 * @self: a domain
 *
 * Gets the domain's UUID.
 *
 * Returns: (nullable): the domain's UUID, or %NULL if not known
 *
 * Since: 1.0
 */
const char *
xlev_domain_get_uuid(XlevDomain *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN(self), NULL);
    return self->uuid;
}

/**
 * xlev_domain_get_state:
 * @self: a domain
 *
 * Gets where the domain is in its life.
 *
 * Returns: where the domain is in its life
 *
 * Since: 1.0
 */
XlevDomainState
xlev_domain_get_state(XlevDomain *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN(self), XLEV_DOMAIN_STATE_GONE);
    return self->state;
}

/**
 * xlev_domain_get_shutdown_reason:
 * @self: a domain
 *
 * Gets why the domain shut down.
 *
 * Returns: why the domain shut down; meaningful only in state
 *   [enum@Xlev.DomainState.SHUTDOWN]
 *
 * Since: 1.0
 */
XlevShutdownReason
xlev_domain_get_shutdown_reason(XlevDomain *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN(self), XLEV_SHUTDOWN_REASON_POWEROFF);
    return self->shutdown_reason;
}

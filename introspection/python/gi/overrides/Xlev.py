# Xlev.py: PyGObject overrides for Xlev-1.0.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# A Python str may hold U+0000; the C strings Xlev takes cannot. Without a
# check, PyGObject passes "/a\0/b" as "/a", so ctx.rm("/a\0/b") would
# remove /a and everything below it. Every string argument of every Xlev
# function, method and constructor (found from the typelib, so API added
# later is covered without editing this file), and every string property
# given to a constructor, is checked here: one holding a NUL raises
# ValueError before anything reaches the library, as Python's own os and
# socket functions do for an embedded null character.

from gi._gi import Direction, Repository, TypeTag
from ..module import get_introspection_module
from ..overrides import override

Xlev = get_introspection_module('Xlev')

__all__ = []

_STRING_TAGS = (TypeTag.UTF8, TypeTag.FILENAME)


def _is_string(type_info):
    tag = type_info.get_tag()
    if tag in _STRING_TAGS:
        return True
    if tag in (TypeTag.ARRAY, TypeTag.GLIST, TypeTag.GSLIST):
        param = type_info.get_param_type(0)
        return param is not None and param.get_tag() in _STRING_TAGS
    return False


def _refuse_nul(where, name, value):
    if isinstance(value, str):
        if '\0' in value:
            raise ValueError('%s: argument %r contains an embedded null '
                             'character' % (where, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _refuse_nul(where, name, item)


def _string_args(fn_info):
    """(position, name) of each string 'in' argument, as Python sees the
    call: PyGObject hides nothing before them (user_data and destroy
    notifiers come last)."""
    found = []
    for pos, arg in enumerate(fn_info.get_arguments()):
        if arg.get_direction() == Direction.IN and _is_string(arg.get_type()):
            found.append((pos, arg.get_name()))
    return found


def _checked(where, fn, string_args, bound):
    offset = 1 if bound else 0  # self comes first in a method call

    def call(*args, **kwargs):
        for pos, name in string_args:
            if pos + offset < len(args):
                _refuse_nul(where, name, args[pos + offset])
            if name in kwargs:
                _refuse_nul(where, name, kwargs[name])
        return fn(*args, **kwargs)

    call.__name__ = fn.__name__ if hasattr(fn, '__name__') else where
    call.__doc__ = getattr(fn, '__doc__', None)
    return call


def _checked_init(where, base_init):
    def __init__(self, *args, **kwargs):
        for name, value in kwargs.items():
            _refuse_nul(where, name, value)
        base_init(self, *args, **kwargs)
    return __init__


def _override_class(info):
    name = info.get_name()
    base = getattr(Xlev, name)
    members = {'__init__': _checked_init('Xlev.%s' % name, base.__init__)}
    for method in info.get_methods():
        string_args = _string_args(method)
        if not string_args:
            continue
        mname = method.get_name()
        where = 'Xlev.%s.%s' % (name, mname)
        if method.is_method():
            members[mname] = _checked(where, getattr(base, mname),
                                      string_args, bound=True)
        else:  # a constructor or a static function of the class
            members[mname] = staticmethod(
                _checked(where, getattr(base, mname), string_args,
                         bound=False))
    cls = override(type(name, (base,), members))
    globals()[name] = cls
    __all__.append(name)


def _override_function(info):
    name = info.get_name()
    string_args = _string_args(info)
    if not string_args:
        return
    globals()[name] = _checked('Xlev.%s' % name, getattr(Xlev, name),
                               string_args, bound=False)
    __all__.append(name)


def _install():
    for info in Repository.get_default().get_infos('Xlev'):
        kind = type(info).__name__
        if kind == 'ObjectInfo':
            _override_class(info)
        elif kind == 'FunctionInfo':
            _override_function(info)


_install()


# Defaults C cannot express: ctx.watch(path) is a watch with no flags.
_checked_watch = Context.watch  # noqa: F821 (made by _install)


def _watch(self, path, flags=Xlev.WatchFlags.NONE):
    return _checked_watch(self, path, flags)


_watch.__doc__ = _checked_watch.__doc__
Context.watch = _watch  # noqa: F821


# ctx.transact(func) with a default number of attempts; an exception the
# function raises (PyGObject would only print it and take False) ends the
# attempts and is raised again by transact itself.
_checked_transact = Context.transact  # noqa: F821 (made by _install)


def _transact(self, func, max_attempts=Xlev.TRANSACT_DEFAULT_ATTEMPTS,
              cancellable=None, *user_data):
    raised = []

    def attempt(tx, *data):
        if raised:
            return False
        try:
            return bool(func(tx, *data))
        except BaseException as e:  # noqa: B036 (raised again below)
            raised.append(e)
            return False

    try:
        return _checked_transact(self, max_attempts, cancellable, attempt,
                                 *user_data)
    except Exception:
        if raised:
            raise raised[0] from None
        raise


_transact.__doc__ = _checked_transact.__doc__
Context.transact = _transact  # noqa: F821

"""Two repeated lookups that dominate Sphinx's write phase on this book, done once each.

Profiling the compile step (``bench/profile.py``) showed about a fifth of it spent in work
that gives the same answer every time it is repeated within one build:

* Every ``{numref}`` unpickles the *whole* doctree of the page holding the target, only to
  read the target node's type (``StandardDomain._resolve_numref_xref``). This book's notebook
  pages have many numbered references and large doctrees, so the same pickles are loaded
  dozens of times. Here each referenced doctree is unpickled once per build and reused,
  read-only, for numref lookups only; the cache entry is tied to the exact pickled bytes
  Sphinx holds, so a page that was read again is never served stale.
* sphinxcontrib-bibtex asks pybtex for a plugin class on every citation, and pybtex scans the
  metadata of every installed distribution for each request
  (``importlib.metadata.entry_points``). The installed distributions cannot change during a
  build, so the scan is done once.

Neither changes what Sphinx writes (the determinism tests compare the outputs byte for byte).
The patches apply in the ``review`` process only: plain ``jupyter-book`` runs, such as the
benchmark's baseline, are untouched. Versions are pinned in requirements.lock; ``install``
checks that the patched functions still have the expected shape and otherwise does nothing.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

_installed = False


def install() -> None:
    """Apply both patches in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    _cache_numref_doctrees()
    _cache_entry_points()


def _cache_numref_doctrees() -> None:
    from sphinx.domains.std import StandardDomain
    from sphinx.environment import BuildEnvironment

    original = getattr(StandardDomain, "_resolve_numref_xref", None)
    if original is None or not hasattr(BuildEnvironment, "get_doctree"):
        return
    # env -> docname -> (the pickled bytes Sphinx holds, the doctree unpickled from them)
    parsed: weakref.WeakKeyDictionary[Any, dict[str, tuple[bytes, Any]]] = weakref.WeakKeyDictionary()

    def read_only_doctree(env, docname: str):
        cache = parsed.setdefault(env, {})
        held = getattr(env, "_pickled_doctree_cache", {}).get(docname)
        hit = cache.get(docname)
        if hit is not None and held is not None and hit[0] is held:
            return hit[1]
        doctree = BuildEnvironment.get_doctree(env, docname)
        cache[docname] = (env._pickled_doctree_cache[docname], doctree)
        return doctree

    @functools.wraps(original)
    def resolve_numref_xref(self, env, *args, **kwargs):
        # The one get_doctree call in this method only looks the target node up by id.
        env.get_doctree = functools.partial(read_only_doctree, env)
        try:
            return original(self, env, *args, **kwargs)
        finally:
            del env.get_doctree

    StandardDomain._resolve_numref_xref = resolve_numref_xref


def _cache_entry_points() -> None:
    import pybtex.plugin

    scan = getattr(pybtex.plugin, "entry_points", None)
    if scan is None:
        return

    @functools.cache
    def everything():
        return scan()

    def entry_points(*, group: str, name: str):
        return everything().select(group=group, name=name)

    pybtex.plugin.entry_points = entry_points

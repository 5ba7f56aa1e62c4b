#!/usr/bin/python3
# check-complete.py: every catalogue in po/LINGUAS translates every message
# the sources in po/POTFILES.in mark today (no untranslated, no fuzzy).
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Usage: check-complete.py SOURCE_ROOT [PO_DIR]
#   PO_DIR, relative to SOURCE_ROOT: po (the library's, the default) or
#   examples/po (the examples' text domain).

import os
import re
import subprocess
import sys
import tempfile

# The keywords of meson's i18n 'glib' preset, plus N_ as po/meson.build adds.
KEYWORDS = ["_", "N_", "C_:1c,2", "NC_:1c,2", "g_dcgettext:2",
            "g_dngettext:2,3", "g_dpgettext2:2c,3"]


def main(root, po_subdir="po"):
    po_dir = os.path.join(root, po_subdir)
    with open(os.path.join(po_dir, "POTFILES.in"), encoding="utf-8") as f:
        sources = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    with open(os.path.join(po_dir, "LINGUAS"), encoding="utf-8") as f:
        linguas = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    if not linguas:
        print(po_subdir + "/LINGUAS lists no language")
        return 1

    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "messages.pot")
        subprocess.run(["xgettext", "--from-code=UTF-8", "--add-comments",
                        "-o", pot, "--directory", root]
                       + ["--keyword=" + k for k in KEYWORDS] + sources,
                       check=True)
        for lang in linguas:
            merged = os.path.join(tmp, lang + ".po")
            subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching",
                            "-o", merged, os.path.join(po_dir, lang + ".po"),
                            pot], check=True)
            stats = subprocess.run(["msgfmt", "--check", "--statistics",
                                    "-o", os.devnull, merged],
                                   capture_output=True, text=True, check=True)
            line = stats.stderr.strip()
            print(f"{lang}: {line}")
            if re.search(r"fuzzy|untranslated", line):
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

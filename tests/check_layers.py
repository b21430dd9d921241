#!/usr/bin/env python3
"""Check that #include lines follow gerbang's one-way dependency table.

    core <- {policy, store} <- detectors <- gateway

Every include of a project header is written from the repository root
("core/gb_log.h"), so each include line names the module it depends on.
A module may include its own headers and those of the modules it depends
on; nothing includes gateway/; policy and store never include each other;
core includes nothing outside core. A <prefix>_int.h header may only be
included by its own module and that module's tests.

usage: check_layers.py ROOT      check the tree at ROOT (exit 1 on violations)
       check_layers.py --selftest  prove the checker catches violations
"""
import os
import re
import sys
import tempfile

MODULES = ("core", "policy", "store", "detectors", "gateway")
ALLOWED = {
    "core": {"core"},
    "policy": {"core", "policy"},
    "store": {"core", "store"},
    "detectors": {"core", "policy", "store", "detectors"},
    "gateway": {"core", "policy", "store", "detectors", "gateway"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def check(root):
    """Return a list of 'file:line: message' violations under root."""
    errors = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames
                       if not d.startswith(".") and not d.startswith("build")]
        rel_dir = os.path.relpath(dirpath, root)
        top = rel_dir.split(os.sep)[0]
        if top in MODULES:
            owner = top
        elif top == "tests":
            owner = "tests"
        else:
            continue
        for name in filenames:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    mod = target.split("/")[0]
                    if mod not in MODULES:
                        if "/" not in target and owner != "tests" and \
                                target != "gb_config.h":
                            errors.append(f"{rel}:{lineno}: include "
                                          f'"{target}" must be written from '
                                          f"the repository root")
                        continue
                    if owner == "tests":
                        continue
                    if mod not in ALLOWED[owner]:
                        errors.append(f"{rel}:{lineno}: {owner}/ may not "
                                      f"include {target} ({owner} depends "
                                      f"only on "
                                      f"{', '.join(sorted(ALLOWED[owner]))})")
                    elif target.endswith("_int.h") and mod != owner:
                        errors.append(f"{rel}:{lineno}: {target} is internal "
                                      f"to {mod}/")
    return errors


def selftest():
    """Build small trees with and without violations and check the verdicts."""
    cases = [
        ({"core/a.c": '#include "core/gb_log.h"\n',
          "gateway/g.c": '#include "core/gb_log.h"\n#include "policy/p.h"\n'},
         0),
        ({"core/a.c": '#include "gateway/gw.h"\n'}, 1),
        ({"policy/p.c": '#include "store/store.h"\n'}, 1),
        ({"store/s.c": '#include "policy/pol.h"\n'}, 1),
        ({"detectors/d.c": '#include "gateway/gw.h"\n'}, 1),
        ({"core/a.c": '#  include "detectors/det.h"\n'}, 1),
        ({"gateway/g.c": '#include "policy/pol_int.h"\n'}, 1),
        ({"core/a.c": '#include "gb_log.h"\n'}, 1),
        ({"tests/unit/core/t.c": '#include "gateway/gw.h"\n'}, 0),
    ]
    failed = 0
    for files, want in cases:
        with tempfile.TemporaryDirectory() as d:
            for rel, text in files.items():
                p = os.path.join(d, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w") as f:
                    f.write(text)
            got = len(check(d))
            if got != want:
                print(f"selftest: {files}: expected {want} violation(s), "
                      f"got {got}")
                failed += 1
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--selftest":
        return selftest()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    errors = check(argv[1])
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) break the dependency table")
        return 1
    print("include lines follow core <- {policy, store} <- detectors <- gateway")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Parse PowerShell scripts with a tree-sitter grammar and fail on any
syntax error, naming file, line and column. PowerShell itself does not run
here; this keeps a broken script from shipping all the same.

usage: check-powershell.py [FILE...]
  FILE  a .ps1/.psm1 file; default: every one git tracks in the tree

needs: the Python packages pinned in scripts/powershell-requirements.txt
(tree-sitter and tree-sitter-powershell; .ci/run installs them).
"""

import os
import re
import subprocess
import sys

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIREMENTS = os.path.join("scripts", "powershell-requirements.txt")
MAX_ERRORS_PER_FILE = 10
MULTIPLIER = re.compile(r"\b\d+(kb|mb|gb|tb|pb)\b", re.IGNORECASE)


def die(message):
    print("check-powershell: error: " + message, file=sys.stderr)
    sys.exit(2)


def load_parser():
    try:
        import tree_sitter
        import tree_sitter_powershell
    except ImportError as e:
        die(f"{e}; install the grammar: python3 -m pip install -r "
            f"{REQUIREMENTS}")
    return tree_sitter.Parser(
        tree_sitter.Language(tree_sitter_powershell.language()))


def tracked_scripts():
    out = subprocess.run(
        ["git", "-C", TREE, "ls-files", "*.ps1", "*.psm1"],
        check=True, capture_output=True, text=True).stdout
    files = [os.path.join(TREE, f) for f in out.splitlines()]
    if not files:
        die(f"git tracks no .ps1 file in {TREE}")
    return files


def problems(node):
    """The innermost ERROR and every MISSING node below node."""
    if not node.has_error:
        return
    inner = [c for c in node.children if c.has_error or c.is_missing]
    if node.is_missing:
        yield node
    elif node.is_error and not any(c.has_error for c in inner):
        yield node
    for child in inner:
        yield from problems(child)


def describe(node, source):
    if node.is_missing:
        return f"missing {node.type!r}"
    text = source[node.start_byte:node.end_byte].decode("utf-8", "replace")
    text = text.strip().splitlines()[0] if text.strip() else ""
    if len(text) > 60:
        text = text[:57] + "..."
    line = source.splitlines()[node.start_point[0]].decode("utf-8", "replace")
    hint = ""
    if MULTIPLIER.search(line):
        hint = (" (the grammar knows no numeric multipliers such as 512MB:"
                " write 512 * 1024 * 1024)")
    return f"syntax error at {text!r}{hint}"


def check(parser, path):
    with open(path, "rb") as f:
        source = f.read()
    tree = parser.parse(source)
    found = list(problems(tree.root_node))
    if tree.root_node.has_error and not found:
        found = [tree.root_node]
    name = os.path.relpath(path, TREE) if path.startswith(TREE) else path
    for node in found[:MAX_ERRORS_PER_FILE]:
        # Lines and columns from 1, columns in bytes as tree-sitter counts.
        row, column = node.start_point
        print(f"{name}:{row + 1}:{column + 1}: {describe(node, source)}")
    if len(found) > MAX_ERRORS_PER_FILE:
        print(f"{name}: {len(found) - MAX_ERRORS_PER_FILE} more errors")
    return not found


def main(args):
    parser = load_parser()
    files = args or tracked_scripts()
    bad = [f for f in files if not check(parser, f)]
    if bad:
        print(f"check-powershell: {len(bad)} of {len(files)} scripts have "
              "syntax errors", file=sys.stderr)
        return 1
    print(f"check-powershell: ok ({len(files)} scripts parse)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

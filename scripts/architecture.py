#!/usr/bin/env python3
"""The extension's floors, checked from its source (scripts/test.sh runs it).

- No import circle between the files of src/ (a file-level module graph: `use crate::...`,
  `use super::...` and inline `crate::x::f()` paths; a parent's `mod child;` is not a use).
- `src/ffi/` refers to nothing of the crate outside `ffi`.
- `unsafe` appears only in `src/ffi/` and `src/entry/` (the crate root denies `unsafe_code`;
  this repeats it for blocks a macro could hide) and every unsafe block has a SAFETY comment.

With --figures it prints the measures the architecture is judged by: lines of ffi, unsafe
blocks and their lengths, the longest functions.
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel == ["lib"]:
        return ()
    if rel[-1] == "mod":
        rel = rel[:-1]
    return tuple(rel)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"//.*", "", line) for line in text.split("\n"))


def strip_strings(text):
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    tree = tree.strip()
    m = re.match(r"^(.*?)::\{(.*)\}$", tree, flags=re.S)
    if not m:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, current = [], 0, ""
    for ch in inner:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    out = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if part == "self":
            out.append(prefix)
        else:
            out.extend(expand_use(prefix + "::" + part))
    return out


def paths_in(text):
    code = strip_strings(strip_comments(text))
    found = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        found.extend(expand_use(m.group(1)))
    found.extend(m.group(0) for m in re.finditer(r"\b(?:crate|super|self)(?:::\w+)+", code))
    return found


def resolve(module, path, modules):
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    elif parts[0] in ("super", "self"):
        base = module
        while parts and parts[0] in ("super", "self"):
            if parts[0] == "super":
                base = base[:-1]
            parts = parts[1:]
        rest = parts
    else:
        return None
    target = base
    for name in rest:
        if target + (name,) in modules:
            target = target + (name,)
        else:
            break
    return target


def cycles(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(scc)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def blocks(text, opener):
    """(start line, line count) of every `opener ... {` block, brace-matched."""
    code = strip_strings(strip_comments(text))
    out = []
    for m in re.finditer(opener, code):
        brace = code.find("{", m.end() - 1)
        if brace < 0:
            continue
        depth, i = 0, brace
        while i < len(code):
            if code[i] == "{":
                depth += 1
            elif code[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        start = code.count("\n", 0, m.start()) + 1
        out.append((start, code.count("\n", m.start(), i) + 1, m.group(0)))
    return out


def name(module):
    return "crate" + "".join("::" + p for p in module)


def main():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for n in names:
            if n.endswith(".rs"):
                path = os.path.join(dirpath, n)
                files[module_of(path)] = path
    modules = set(files)
    graph, failures = {}, []
    for module, path in sorted(files.items()):
        text = open(path, encoding="utf-8").read()
        edges = set()
        for p in paths_in(text):
            target = resolve(module, p, modules)
            if target is None or target == module:
                continue
            # A parent naming its own child module (`mod x; pub use x::Y`) is the child's
            # declaration; a child naming its ancestors or siblings is a use.
            if target[: len(module)] == module and module != () and len(target) > len(module):
                if module and path.endswith("mod.rs"):
                    edges.add(target)
                    continue
            edges.add(target)
            if module[:1] == ("ffi",) and target[:1] != ("ffi",):
                failures.append(f"{os.path.relpath(path, ROOT)}: ffi refers to {name(target)} ({p})")
        graph[module] = edges
    for scc in cycles(graph):
        failures.append("import circle: " + " -> ".join(sorted(name(m) for m in scc)))
    unsafe_blocks = []
    for module, path in sorted(files.items()):
        text = open(path, encoding="utf-8").read()
        rel = os.path.relpath(path, ROOT)
        found = blocks(text, r"\bunsafe\s*\{")
        lines = text.split("\n")
        for start, count, _ in found:
            unsafe_blocks.append((count, rel, start))
            window = "\n".join(lines[max(0, start - 12) : start])
            if "SAFETY" not in window:
                failures.append(f"{rel}:{start}: unsafe block without a SAFETY comment")
        if module[:1] not in (("ffi",), ("entry",)) and re.search(
            r"\bunsafe\b", strip_strings(strip_comments(text))
        ):
            failures.append(f"{rel}: unsafe code outside ffi and entry")
    if "--figures" in sys.argv:
        ffi_lines = sum(
            open(p, encoding="utf-8").read().count("\n") for m, p in files.items() if m[:1] == ("ffi",)
        )
        total = sum(open(p, encoding="utf-8").read().count("\n") for p in files.values())
        functions = []
        for module, path in files.items():
            text = open(path, encoding="utf-8").read()
            for start, count, head in blocks(text, r"\bfn\s+\w+[^;{]*\{"):
                functions.append((count, os.path.relpath(path, ROOT), start, head.split("(")[0]))
        functions.sort(reverse=True)
        long_unsafe = [b for b in unsafe_blocks if b[0] >= 15]
        print(f"extension lines: {total}; ffi lines: {ffi_lines}")
        print(f"unsafe blocks: {len(unsafe_blocks)}; 15 lines or longer: {len(long_unsafe)}; "
              f"longest: {max(unsafe_blocks)[0] if unsafe_blocks else 0} ({max(unsafe_blocks)[1] if unsafe_blocks else ''})")
        print("longest functions:")
        for count, rel, start, head in functions[:8]:
            print(f"  {count:4} lines  {rel}:{start} {head}")
        edges = sum(len(e) for e in graph.values())
        print(f"module files: {len(files)}; module dependencies: {edges}")
    if failures:
        print("\n".join(failures))
        return 1
    print("architecture: no import circle; ffi refers to nothing of the crate; unsafe only in ffi and entry")
    return 0


if __name__ == "__main__":
    sys.exit(main())

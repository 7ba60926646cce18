#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""layers.py SOURCE_DIR [--print]: checks the tree against the allowed
dependencies of docs/architecture.md ("## Allowed dependencies" table).

A part is a folder: core/<subsystem>, lib/<library>, sdk/include (the
headers), sdk/lib, sdk/test, cli, plugins/<kind>. A part depends on another
when one of its files includes a header of the other ("wire/frame.h",
<circuit/plugin.h>, "transport/transport.h") or, inside core/, calls a
plugin.h function that core/plugin/ implements. Fails (exit 1, one line per
finding) on a dependency the table does not allow, on a part the table does
not name, and on a cycle between parts; --print shows the graph found."""
import os
import re
import sys

src = sys.argv[1]
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
CALL = re.compile(r'\b(circuit_[a-z0-9_]+)\s*\(')
DEFN = re.compile(r'^(circuit_[a-z0-9_]+)\(', re.M)


def part_of(rel):
    bits = rel.split('/')
    if bits[0] in ('core', 'lib', 'plugins') and len(bits) > 2:
        return '/'.join(bits[:2])
    if bits[0] == 'sdk' and len(bits) > 2:
        return 'sdk/include' if bits[1] == 'include' else '/'.join(bits[:2])
    if bits[0] == 'cli':
        return 'cli'
    return None


def sources():
    for top in ('core', 'lib', 'sdk/include', 'sdk/lib', 'sdk/test', 'cli', 'plugins'):
        for root, _, files in os.walk(os.path.join(src, top)):
            for f in files:
                if f.endswith(('.c', '.h')):
                    path = os.path.join(root, f)
                    yield os.path.relpath(path, src), open(path, encoding='utf-8').read()


# Which header belongs to which part: "wire/frame.h" -> lib/wire, ...
def header_part(name, own):
    first = name.split('/')[0]
    if first == 'circuit':
        return 'sdk/include'
    if os.path.isdir(os.path.join(src, 'lib', first, 'include', first)):
        return 'lib/' + first
    if '/' in name and os.path.isdir(os.path.join(src, 'core', first)):
        return 'core/' + first
    return own  # a header of the same folder ("dns_store.h", "commands.h")


def allowed_table():
    text = open(os.path.join(src, 'docs', 'architecture.md'), encoding='utf-8').read()
    sec = text.split('## Allowed dependencies', 1)
    if len(sec) < 2:
        sys.exit('docs/architecture.md has no "## Allowed dependencies" section')
    table = {}
    for line in sec[1].split('\n## ', 1)[0].splitlines():
        cells = [c.strip().strip('`') for c in line.strip().strip('|').split('|')]
        if len(cells) != 2 or not cells[0] or cells[0].startswith(('part', '-')):
            continue
        deps = [d.strip().strip('`') for d in cells[1].split(',')]
        table[cells[0]] = {d for d in deps if d and d != '(none)'}
    return table


files = list(sources())
host_fns = set()
for rel, text in files:
    if rel.startswith('core/plugin/') and rel.endswith('.c'):
        host_fns |= set(DEFN.findall(text))

graph = {}
why = {}
for rel, text in files:
    part = part_of(rel)
    if part is None:
        continue
    deps = graph.setdefault(part, set())
    for name in INCLUDE.findall(text):
        if '/' not in name and not name.endswith('.h'):
            continue
        if name.startswith(('glib', 'gmodule', 'json-glib', 'gcrypt', 'ev.h', 'ldns', 'curl', 'sys/',
                            'netinet', 'arpa', 'linux', 'net/')):
            continue
        dep = header_part(name, part)
        if dep != part:
            deps.add(dep)
            why.setdefault((part, dep), f'{rel} includes "{name}"')
    if part.startswith('core/') and part != 'core/plugin':
        for fn in set(CALL.findall(text)) & host_fns:
            deps.add('core/plugin')
            why.setdefault((part, 'core/plugin'), f'{rel} calls {fn}() (core/plugin)')

if '--print' in sys.argv:
    for part in sorted(graph):
        print(f'| `{part}` | {", ".join(f"`{d}`" for d in sorted(graph[part])) or "(none)"} |')
    sys.exit(0)

table = allowed_table()
bad = 0
for part in sorted(graph):
    if part.startswith('plugins/') and part not in table:
        rule = table.get('plugins/*')
    else:
        rule = table.get(part)
    if rule is None:
        print(f'layers: {part} is not in docs/architecture.md\'s table of allowed dependencies')
        bad += 1
        continue
    for dep in sorted(graph[part] - rule):
        print(f'layers: {part} may not depend on {dep}: {why[(part, dep)]}')
        bad += 1

# No cycle between parts (the graph found, and the table itself).
def cycle(g):
    state = {}
    def visit(n, path):
        state[n] = 1
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return path + [n, m]
            if m not in state:
                c = visit(m, path + [n])
                if c:
                    return c
        state[n] = 2
        return None
    for n in sorted(g):
        if n not in state:
            c = visit(n, [])
            if c:
                return c[c.index(c[-1]):]
    return None

for name, g in (('the tree', graph), ('the table', table)):
    c = cycle(g)
    if c:
        print(f'layers: a cycle in {name}: {" -> ".join(c)}')
        bad += 1
print(f'layers: {len(graph)} parts, {sum(len(d) for d in graph.values())} dependencies, {bad} not allowed')
sys.exit(1 if bad else 0)

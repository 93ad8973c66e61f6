#!/usr/bin/env python3
"""Turns data/cve.json into a C header so the ward binary carries its CVE
data without needing an installed data file (--cve-data overrides it)."""
import sys

data = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'w') as out:
    out.write('/* generated from data/cve.json by src/audit/embed.py; do not edit */\n')
    out.write('static const char ward_cve_json[] =\n')
    for line in data.splitlines(keepends=True):
        esc = ''.join(c if 32 <= ord(c) < 127 and c not in '"\\?' else '\\%03o' % ord(c)
                      for c in line.decode('latin-1'))
        out.write('  "%s"\n' % esc)
    out.write(';\n')

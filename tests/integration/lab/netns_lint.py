#!/usr/bin/env python3
"""The lab's guard by construction: in the given bash scripts, no command that touches
networking (ip, iptables, nft, sysctl, bridge, firewalld, BIRD, ...) may run by itself; it must
be an argument of ng_in / ng_bg / ng_bg_to (tests/support/netns.sh), which refuse any namespace
the run did not create. A rough bash reader: heredoc bodies, comments and quoted strings are
dropped, continued lines joined, the rest split into simple commands whose first word (after
env, timeout, sudo and VAR=value) is checked. Prints file:line: command for each offence and
exits 1 if there is one."""
import re
import sys

NETWORKING = re.compile(
    r"^(ip|iptables(-[a-z]+)*|ip6tables(-[a-z]+)*|nft|sysctl|bridge|tc|ethtool|ss|ping|"
    r"firewall-cmd|firewalld|dbus-daemon|bird|bird6|socat|nsenter|unshare)$")
# A statement marked with this comment is allowed (the lab's loopback forwarders of the metrics
# ports, bound to 127.0.0.1 in the machine's namespace, as the lab's brief permits).
MARK = "netns-lint: loopback only"
WRAPPERS = {"env", "timeout", "sudo", "exec", "command", "nohup"}
SPLIT = re.compile(r"\$\(|`|&&|\|\||[;&|(){}]|\b(?:then|do|else|elif|if|while|until|!)\b")


def strip(text):
    """Drops heredoc bodies, comments and quoted strings; joins continued lines. Returns
    (line number, code, marked) triples."""
    out, lines, i, heredoc = [], text.split("\n"), 0, None
    pending, start, marked = "", 0, False
    while i < len(lines):
        line = lines[i]
        i += 1
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        code = re.sub(r"'[^']*'", "''", line)
        code = re.sub(r'"(\\.|[^"\\])*"', '""', code)
        code = re.sub(r"(^|\s)#.*$", "", code)
        if not pending:
            start, marked = i, False
        marked = marked or MARK in line
        if code.endswith("\\"):
            pending += code[:-1] + " "
            continue
        out.append((start, pending + code, marked))
        pending = ""
    return out


def offences(path):
    found = []
    for lineno, code, marked in strip(open(path, encoding="utf-8").read()):
        if marked:
            continue
        for part in SPLIT.split(code):
            words = part.split()
            while words and (words[0] in WRAPPERS or re.match(r"^[A-Za-z_]+=", words[0]) or
                             re.match(r"^-", words[0]) or re.match(r"^[0-9.]+[smh]?$", words[0])):
                words = words[1:]
            if not words or not NETWORKING.match(words[0]):
                continue
            found.append(f"{path}:{lineno}: {part.strip()}")
    return found


def main():
    bad = [o for p in sys.argv[1:] for o in offences(p)]
    for o in bad:
        print(o)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile YAML shared by the tests of the input limits (no tests here)."""

from __future__ import annotations


def alias_bomb(levels: int = 9) -> str:
    """A change set of a few hundred bytes whose one operation holds ``9 ** levels`` strings once
    its aliases are expanded ("billion laughs"): each level is a list of nine aliases to the
    level before. Nine levels (under 600 bytes) expand to 387 million strings."""
    lines = ["- op: create_item", "  class: hardware.laptop", "  name: Bomb", "  attributes:",
             "    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"    l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def aliases(count: int) -> str:
    """A small mapping whose ``values`` list holds ``count`` aliases to one anchored string."""
    return "name: &n x\nvalues: [" + ", ".join(["*n"] * count) + "]\n"

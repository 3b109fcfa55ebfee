"""Comparing two programs' printed output number by number: the book's against xpnet's.

Words must be equal; numbers equal within a relative tolerance (or an
absolute one, for values that are zero up to rounding).
"""
import re

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)\b")


def tokens(text):
    """The output as a list of numbers (floats) and the words between them (str)."""
    out, position = [], 0
    for match in _NUMBER.finditer(text):
        out.extend(text[position:match.start()].split())
        out.append(float(match.group()))
        position = match.end()
    out.extend(text[position:].split())
    return out


def compare(expected, actual, rtol=1e-6, atol=1e-12):
    """(max relative difference, first disagreement or None) between two outputs."""
    a, b = tokens(expected), tokens(actual)
    worst = 0.0
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, float) and isinstance(y, float):
            if x == y or (x != x and y != y):
                continue
            difference = abs(x - y) / max(abs(x), abs(y))
            worst = max(worst, difference)
            if abs(x - y) > max(rtol * max(abs(x), abs(y)), atol):
                return worst, f"token {i}: expected {x!r}, got {y!r}"
        elif x != y:
            return worst, f"token {i}: expected {x!r}, got {y!r}"
    if len(a) != len(b):
        return worst, f"expected {len(a)} tokens, got {len(b)}"
    return worst, None

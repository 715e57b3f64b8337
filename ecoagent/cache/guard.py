"""When may one query's answer serve another? Normalization and the similarity guard.

Embedding similarity cannot decide it alone. Measured on the bundled MiniLM, "17*23"
and "17*24" score 0.909, "enable 2FA" and "disable 2FA" 0.911, "USD to EUR" and
"EUR to USD" 0.980, while true paraphrases score 0.76–0.82: no threshold separates
them. So a similarity hit is served only when the two queries also state the same
*facts*:

* the same numbers in the same order (``17``, ``17.0``, ``seventeen`` and ``17th`` are
  one number; order matters, since "17 - 23" is not "23 - 17");
* the same quoted strings, identifiers (``USD``, ``snake_case``, ``CamelCase``,
  ``a.b``), paths, URLs and e-mail addresses, in the same order;
* the same negations (not, without, except, ...);
* the same choice within each group of contrasting words: largest/smallest,
  even/odd, sum/difference/product/quotient, enable/disable, ascending/descending,
  ... (operator symbols count: ``*`` is a product);
* the same content words (crudely stemmed, beyond function words and ways of
  asking such as "compute" or "what is"), in the same order: "words" is not
  "characters", "miles to km" is not "km to miles".

The guard errs towards a miss: a paraphrase that reorders its numbers or drops an
operation word is not served, and costs one ordinary run. A wrong hit would cost
a wrong answer. Its lexicon is English and deliberately small; a query outside it
still has its numbers, names and negations checked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..literals import IDENT, NEGATIONS, PATH, QUOTED, URL

__all__ = ["Facts", "facts", "mismatch", "normalize"]

_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s?.!]+$")


def normalize(text: str) -> str:
    """The exact-cache form of a query: Unicode-normalized, case-folded, spacing and
    closing punctuation aside. "What is 17*23?" and "what is 17*23" are one key;
    anything that changes a word, a number or a symbol is another."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _TRAILING.sub("", _SPACES.sub(" ", text).strip())


_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "tenth": 10,
    "twice": 2,
    "half": 0.5,
    "dozen": 12,
    "once": 1,
    "thrice": 3,
}

_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?=st\b|nd\b|rd\b|th\b|[^\w]|$)", re.I
)
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.I)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

# Groups of contrasting choices. Within a group, the set of choices two queries make
# must be equal; each choice lists the words (and symbols) that name it.
_CONTRASTS: dict[str, dict[str, tuple[str, ...]]] = {
    "arithmetic": {
        "sum": ("sum", "sums", "add", "adding", "added", "plus", "total", "+"),
        "difference": ("difference", "subtract", "subtracting", "subtracted", "minus", "−"),
        "product": ("product", "multiply", "multiplied", "multiplying", "times", "*", "×"),
        "quotient": ("quotient", "divide", "divided", "dividing", "division", "÷", "/"),
        "power": ("power", "raised", "exponent", "**", "^"),
        "remainder": ("remainder", "modulo", "mod", "%mod"),
    },
    "percent": {"percent": ("percent", "percentage", "%pct")},
    "digits": {"digits": ("digit", "digits")},
    "measure": {
        "area": ("area",),
        "volume": ("volume",),
        "perimeter": ("perimeter", "circumference"),
        "surface": ("surface",),
        "length": ("length", "hypotenuse", "diagonal"),
    },
    "shape": {
        "circle": ("circle", "disc", "disk"),
        "sphere": ("sphere", "ball"),
        "cylinder": ("cylinder",),
        "rectangle": ("rectangle", "rectangular"),
        "triangle": ("triangle", "triangular"),
        "cone": ("cone",),
    },
    "extreme": {
        "max": ("max", "maximum", "largest", "biggest", "greatest", "highest", "most", "longest", "oldest"),
        "min": ("min", "minimum", "smallest", "lowest", "least", "fewest", "shortest", "youngest"),
    },
    "parity": {"even": ("even",), "odd": ("odd",)},
    "order": {
        "ascending": ("ascending", "increasing", "smallest-first"),
        "descending": ("descending", "decreasing", "reverse", "reversed", "largest-first"),
    },
    "position": {"first": ("first", "leading", "beginning"), "last": ("last", "trailing", "end", "final")},
    "relation": {
        "above": ("above", "over", "greater", "larger", "bigger", "higher", "more", "exceeding", "after"),
        "below": ("below", "under", "less", "fewer", "smaller", "lesser", "before"),
    },
    "switch": {
        "on": ("enable", "enabled", "enabling", "activate", "turn on", "switch on", "start"),
        "off": ("disable", "disabled", "disabling", "deactivate", "turn off", "switch off", "stop"),
    },
    "membership": {"add": ("insert", "append", "include"), "remove": ("remove", "delete", "drop", "exclude")},
    "coding": {
        "encode": ("encode", "encrypt", "compress", "serialize", "hash"),
        "decode": ("decode", "decrypt", "decompress", "deserialize", "unhash"),
    },
    "case": {"upper": ("upper", "uppercase", "capital", "capitals", "capitalize"), "lower": ("lower", "lowercase")},
    "statistic": {
        "mean": ("mean", "average", "avg"),
        "median": ("median",),
        "mode": ("mode",),
        "spread": ("variance", "deviation", "stdev", "pstdev", "std"),
    },
    "divisor": {
        "gcd": ("gcd", "hcf", "greatest common divisor", "highest common factor"),
        "lcm": ("lcm", "least common multiple", "lowest common multiple"),
    },
    "letters": {"vowels": ("vowel", "vowels"), "consonants": ("consonant", "consonants")},
    "number kind": {"prime": ("prime", "primes"), "composite": ("composite", "composites")},
    "rounding": {
        "up": ("ceil", "ceiling", "round up", "rounded up"),
        "down": ("floor", "round down", "rounded down", "truncate"),
    },
    "temperature": {"celsius": ("celsius", "°c"), "fahrenheit": ("fahrenheit", "°f"), "kelvin": ("kelvin",)},
    "root": {"square": ("square", "squares", "squared", "sqrt"), "cube": ("cube", "cubes", "cubed", "cubic")},
}
_MULTIWORD = sorted(
    {w for group in _CONTRASTS.values() for words in group.values() for w in words if " " in w}, key=len, reverse=True
)
_LEXICON = frozenset(w for group in _CONTRASTS.values() for words in group.values() for w in words)
_SYMBOLS = ("**", "^", "×", "÷", "−", "*", "+", "/")


# Words that carry no fact of their own: function words and the ways of asking.
_STOPWORDS = frozenset(
    """a an the this that these those of in on at to into onto from by for with as and or but if then than
    is are was were be been being am do does did done has have had having will would shall should can could
    may might must what which who whom whose when where why how it its it's i me my we our you your he she
    they them their there here please kindly just exactly also only all every each any some so very
    compute calculate find give get tell show print return write output determine evaluate work out
    answer result value using use used result what's whats number numbers integer integers whole
    up down about across between through via per yields yield equal equals make makes let lets need""".split()
)
# Ways of asking for the same thing (after stemming).
_SYNONYMS = {
    "many": "count",
    "count": "count",
    "tally": "count",
    "backward": "revers",
    "revers": "revers",
    "invert": "revers",
    "item": "element",
    "entrie": "element",
    "element": "element",
}


def _stem(word: str) -> str:
    """A crude English stem, enough to equate "reversed"/"reverse", "primes"/"prime"."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class Facts:
    """What a query states that its answer depends on (see the module doc)."""

    numbers: tuple[float, ...]
    names: tuple[str, ...]
    negations: int
    choices: tuple[tuple[str, frozenset[str]], ...]
    words: tuple[str, ...] = ()


def _numbers(text: str) -> list[float]:
    found: list[tuple[int, float]] = []
    for m in _NUMBER.finditer(text):
        found.append((m.start(), float(m.group().replace(",", ""))))
    for m in re.finditer(r"[a-z]+", text):
        if m.group() in _WORD_NUMBERS:
            found.append((m.start(), float(_WORD_NUMBERS[m.group()])))
    return [value for _, value in sorted(found)]


def _symbol_choices(text: str) -> set[str]:
    """Operator symbols between operands, e.g. ``17*23`` or ``2 ** 10`` (not a hyphen in 'three-digit')."""
    found = set()
    for sym in _SYMBOLS:
        if re.search(r"[\w)]\s*" + re.escape(sym) + r"\s*[\w(]", text):
            found.add(sym)
    if re.search(r"\d\s+-\s*\d|\d\s*-\s+\d", text):
        found.add("−")
    if re.search(r"\w\s*%\s*\d", text):
        found.add("%mod")
    if re.search(r"\d\s*%(?!\s*\d)", text):
        found.add("%pct")
    return found


def facts(text: str) -> Facts:
    """The :class:`Facts` a query states."""
    raw = unicodedata.normalize("NFKC", text)
    quoted = ["".join(g for g in m.groups() if g) for m in QUOTED.finditer(raw)]
    unquoted = QUOTED.sub(" ", raw)
    names = [q.strip() for q in quoted]
    names += [m.group() for m in URL.finditer(unquoted)]
    rest = URL.sub(" ", unquoted)
    names += [m.group() for m in PATH.finditer(rest)]
    rest = PATH.sub(" ", rest)
    names += [
        m.group()
        for m in IDENT.finditer(rest)
        if not (_ORDINAL.fullmatch(m.group()) or m.group().casefold() in _LEXICON)
    ]
    lower = rest.casefold()
    words = _WORD.findall(lower)
    negations = sum(1 for w in words if w in NEGATIONS or w.endswith("n't"))
    symbols = _symbol_choices(lower)
    padded = " " + " ".join(words) + " "
    choices = []
    for group, options in _CONTRASTS.items():
        chosen = set()
        for choice, names_of in options.items():
            for name in names_of:
                if name in symbols or (" " in name and f" {name} " in padded) or name in words:
                    chosen.add(choice)
                    break
        if chosen:
            choices.append((group, frozenset(chosen)))
    content = [
        _stem(w)
        for w in words
        if w not in _STOPWORDS and w not in _LEXICON and w not in _WORD_NUMBERS and w not in NEGATIONS
    ]
    return Facts(
        numbers=tuple(_numbers(lower)),
        names=tuple(names),
        negations=negations,
        choices=tuple(choices),
        words=tuple(dict.fromkeys(_SYNONYMS.get(w, w) for w in content)),
    )


def mismatch(query: str, other: str) -> str | None:
    """Why ``other``'s answer may not serve ``query`` (None when the guard lets it).

    Both directions are checked: every fact must be stated by both, the same way.
    """
    a, b = facts(query), facts(other)
    if a.numbers != b.numbers:
        return f"numbers differ ({_nums(a.numbers)} vs {_nums(b.numbers)})"
    if [n.casefold() for n in a.names] != [n.casefold() for n in b.names]:
        return f"names differ ({', '.join(a.names) or 'none'} vs {', '.join(b.names) or 'none'})"
    if a.negations != b.negations:
        return "one of them is negated"
    if set(a.words) != set(b.words):
        only_a, only_b = sorted(set(a.words) - set(b.words)), sorted(set(b.words) - set(a.words))
        return f"words differ ({', '.join(only_a) or 'none'} vs {', '.join(only_b) or 'none'})"
    if len(a.words) > 1 and a.words != b.words:
        return f"word order differs ({' '.join(a.words)} vs {' '.join(b.words)})"
    ca, cb = dict(a.choices), dict(b.choices)
    for group in sorted(set(ca) | set(cb)):
        if ca.get(group) != cb.get(group):
            return f"{group} differs ({_choice(ca.get(group))} vs {_choice(cb.get(group))})"
    return None


def _nums(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values) or "none"


def _choice(chosen: frozenset[str] | None) -> str:
    return "/".join(sorted(chosen)) if chosen else "unstated"

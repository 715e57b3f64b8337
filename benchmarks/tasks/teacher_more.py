"""More families for the broad teacher set: breadth, the one thing measured to move unseen-family success.

With ``make_teacher.py``'s first 97 families, training on 63 families x 4 tasks reached more
unseen families than 21 x 12 or 57 x 11 (docs/measured.md): what a 135M model carries over
to a new kind of task is the repertoire of code shapes it saw, so this file adds kinds of
task people ask a code-executing assistant, each a distinct job: none repeats a family of
the first set under another name (a sales-tax family was left out: it is the held-out
``discount`` formula with the sign flipped). They are split by ``holdout_split`` like the rest (a
hash of the name), so about a quarter of them are measured, never trained on.

Each family is a ``Family`` of ``make_teacher.py`` (passed in, so the two files share one
definition): parameters from a seeded ``random.Random``, phrasings, and reference code
whose output is the expected answer. Literal braces in code are doubled (``str.format``).
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["families"]

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "Cheap models answer most questions and expensive ones answer the rest",
    "To be or not to be that is the question",
    "A small model that writes code can check its own answers",
    "She sells sea shells by the sea shore",
    "Python makes it easy to count words in a sentence",
    "Every query starts on the cheapest rung of the ladder",
    "Pack my box with five dozen liquor jugs",
    "the rain in Spain stays mainly in the plain",
    "Good code is simple code and simple code is easy to test",
]
WORDS = [
    "banana",
    "letter",
    "coffee",
    "balloon",
    "mississippi",
    "bookkeeper",
    "committee",
    "address",
    "success",
    "parallel",
    "rhythm",
    "queue",
    "sandbox",
    "ladder",
    "assistant",
    "umbrella",
    "python",
    "keyboard",
]
PEOPLE = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jin"]
CITIES = ["Oslo", "Lima", "Pune", "Kyiv", "Accra", "Quito"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _xs(r: random.Random, lo: int, hi: int, n_lo: int = 5, n_hi: int = 9) -> list[int]:
    return [r.randint(lo, hi) for _ in range(r.randint(n_lo, n_hi))]


def _date(r: random.Random) -> str:
    return f"{r.randint(1990, 2030)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"


def _hhmm(r: random.Random) -> str:
    return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"


def _people_json(r: random.Random) -> str:
    import json

    return json.dumps(
        [{"name": p, "age": r.randint(16, 70), "city": r.choice(CITIES)} for p in r.sample(PEOPLE, r.randint(3, 6))]
    )


def _sales_csv(r: random.Random) -> str:
    rows = [
        f"{r.choice(['north', 'south', 'east', 'west'])},{r.choice(PEOPLE)},{r.randint(10, 500)}"
        for _ in range(r.randint(4, 8))
    ]
    return "region,rep,amount\n" + "\n".join(rows)


def _access_log(r: random.Random) -> str:
    lines = []
    for _ in range(r.randint(5, 10)):
        ip = f"10.0.{r.randint(0, 3)}.{r.randint(1, 9)}"
        lines.append(
            f"{ip} GET /{r.choice(['home', 'login', 'api/items', 'search'])} {r.choice([200, 200, 200, 404, 500, 302])}"
        )
    return "\n".join(lines)


def families(F: Any) -> list[Any]:  # noqa: N803 - the Family class
    """The added families, built with ``F`` (``make_teacher.Family``)."""
    ri = random.Random.randint
    return [
        # ---- arithmetic and number theory
        F(
            "sum-range",
            "arithmetic",
            lambda r: {"a": ri(r, -50, 100), "b": ri(r, 101, 2000)},
            (
                "What is the sum of all integers from {a} to {b}, inclusive?",
                "Add up every whole number between {a} and {b} (both included).",
            ),
            "print(sum(range({a}, {b} + 1)))",
        ),
        F(
            "sum-multiples",
            "arithmetic",
            lambda r: {"a": ri(r, 2, 9), "b": ri(r, 2, 9), "n": ri(r, 20, 2000)},
            (
                "What is the sum of the numbers below {n} that are multiples of {a} or {b}?",
                "Use Python to add up all natural numbers less than {n} divisible by {a} or by {b}.",
            ),
            "print(sum(i for i in range(1, {n}) if i % {a} == 0 or i % {b} == 0))",
        ),
        F(
            "count-divisors",
            "number theory",
            lambda r: {"n": ri(r, 12, 5000)},
            ("How many positive divisors does {n} have?", "Count the divisors of {n}, including 1 and {n} itself."),
            "print(sum(1 for d in range(1, {n} + 1) if {n} % d == 0))",
        ),
        F(
            "proper-divisor-sum",
            "number theory",
            lambda r: {"n": ri(r, 6, 3000)},
            ("What is the sum of the proper divisors of {n} (divisors smaller than {n})?",),
            "print(sum(d for d in range(1, {n}) if {n} % d == 0))",
        ),
        F(
            "factorial",
            "arithmetic",
            lambda r: {"n": ri(r, 5, 25)},
            ("What is {n} factorial?", "Compute {n}! with Python."),
            "import math\nprint(math.factorial({n}))",
        ),
        F(
            "factorial-zeros",
            "number theory",
            lambda r: {"n": ri(r, 10, 1000)},
            ("How many trailing zeros does {n}! have?", "Count the zeros at the end of the factorial of {n}."),
            "n, z = {n}, 0\nwhile n:\n    n //= 5\n    z += n\nprint(z)",
        ),
        F(
            "nth-prime",
            "number theory",
            lambda r: {"n": ri(r, 5, 300)},
            ("What is the {n}th prime number?", "Find prime number number {n} (2 is the first)."),
            "count, k = 0, 1\nwhile count < {n}:\n    k += 1\n    if all(k % d for d in range(2, int(k ** 0.5) + 1)):\n        count += 1\nprint(k)",
        ),
        F(
            "primes-between",
            "number theory",
            lambda r: {"a": ri(r, 1, 500), "b": ri(r, 600, 3000)},
            ("How many primes are there between {a} and {b}, inclusive?",),
            "print(sum(1 for k in range(max({a}, 2), {b} + 1) if all(k % d for d in range(2, int(k ** 0.5) + 1))))",
        ),
        F(
            "divmod",
            "arithmetic",
            lambda r: {"a": ri(r, 100, 99999), "b": ri(r, 3, 97)},
            ("What are the quotient and the remainder when {a} is divided by {b}? Print them separated by a space.",),
            "print({a} // {b}, {a} % {b})",
        ),
        F(
            "percent-of",
            "arithmetic",
            lambda r: {"p": ri(r, 1, 99), "n": ri(r, 20, 5000)},
            ("What is {p}% of {n}?", "Compute {p} percent of {n}."),
            "print({p} * {n} / 100)",
        ),
        F(
            "percent-change",
            "arithmetic",
            lambda r: {"a": ri(r, 20, 900), "b": ri(r, 20, 900)},
            ("A value went from {a} to {b}. What is the percentage change, to 1 decimal?",),
            "print(round(({b} - {a}) / {a} * 100, 1))",
        ),
        F(
            "square-root",
            "arithmetic",
            lambda r: {"n": ri(r, 2, 99999)},
            ("What is the square root of {n}, to 4 decimal places?",),
            "import math\nprint(round(math.sqrt({n}), 4))",
        ),
        F(
            "bit-count",
            "number theory",
            lambda r: {"n": ri(r, 5, 100000)},
            ("How many 1 bits are in the binary form of {n}?", "Count the ones in {n} written in binary."),
            "print(bin({n}).count('1'))",
        ),
        F(
            "reverse-number",
            "arithmetic",
            lambda r: {"n": ri(r, 1000, 9999999)},
            ("What number do you get by reversing the digits of {n}?",),
            "print(int(str({n})[::-1]))",
        ),
        F(
            "armstrong",
            "number theory",
            lambda r: {"n": r.choice([153, 370, 371, 407, 1634, 8208, 9474, 154, 372, 999, 1000, 8200, 9475])},
            (
                "Is {n} an Armstrong number (equal to the sum of its digits, each raised to the number of digits)? True or False.",
            ),
            "s = str({n})\nprint(sum(int(d) ** len(s) for d in s) == {n})",
        ),
        F(
            "boxes-needed",
            "arithmetic",
            lambda r: {"n": ri(r, 10, 5000), "k": ri(r, 3, 48)},
            (
                "Each box holds {k} items. How many boxes are needed for {n} items?",
                "{n} people must travel in vans of {k} seats. How many vans are needed?",
            ),
            "print(-(-{n} // {k}))",
        ),
        F(
            "sum-of-squares",
            "sequences",
            lambda r: {"n": ri(r, 5, 300)},
            ("What is the sum of the squares of the integers 1 to {n}?", "Compute 1^2 + 2^2 + ... + {n}^2."),
            "print(sum(i * i for i in range(1, {n} + 1)))",
        ),
        F(
            "geometric-series",
            "sequences",
            lambda r: {"a": ri(r, 1, 9), "q": ri(r, 2, 5), "n": ri(r, 3, 15)},
            (
                "A sequence starts at {a} and each term is {q} times the previous one. What is the sum of its first {n} terms?",
            ),
            "print(sum({a} * {q} ** i for i in range({n})))",
        ),
        F(
            "nth-term",
            "sequences",
            lambda r: {"a": ri(r, -20, 50), "d": ri(r, -9, 12), "n": ri(r, 10, 500)},
            ("An arithmetic sequence starts {a}, then adds {d} each time. What is term number {n}?",),
            "print({a} + ({n} - 1) * ({d}))",
        ),
        # ---- strings and text
        F(
            "uppercase-count",
            "strings",
            lambda r: {"s": r.choice(SENTENCES)},
            ('How many uppercase letters are in "{s}"?',),
            'print(sum(c.isupper() for c in "{s}"))',
        ),
        F(
            "word-occurrences",
            "text",
            lambda r: {"s": r.choice(SENTENCES), "w": r.choice(["the", "code", "to", "is", "by", "sea", "simple"])},
            ("How many times does the word '{w}' appear in \"{s}\" (ignoring case)?",),
            "print(\"{s}\".lower().split().count('{w}'))",
        ),
        F(
            "acronym",
            "text",
            lambda r: {"s": r.choice(SENTENCES)},
            ('Make an acronym from the first letter of each word of "{s}", in uppercase.',),
            "print(''.join(w[0] for w in \"{s}\".split()).upper())",
        ),
        F(
            "replace-char",
            "strings",
            lambda r: {"w": r.choice(WORDS), "c": r.choice("aeiost"), "d": r.choice("*#@-")},
            ("Replace every '{c}' in '{w}' with '{d}'. What is the result?",),
            "print('{w}'.replace('{c}', '{d}'))",
        ),
        F(
            "camel-case",
            "text",
            lambda r: {
                "s": " ".join(
                    r.sample(["user", "account", "total", "price", "max", "item", "count", "name"], r.randint(2, 4))
                )
            },
            ("Convert '{s}' to camelCase.", "Write '{s}' as a camelCase identifier."),
            "w = '{s}'.split()\nprint(w[0] + ''.join(x.capitalize() for x in w[1:]))",
        ),
        F(
            "count-substring",
            "strings",
            lambda r: {
                "w": r.choice(["banana", "mississippi", "abababab", "aaaaa", "bookkeeper"]),
                "s": r.choice(["a", "an", "ss", "ab", "aa", "ee", "o"]),
            },
            ("How many non-overlapping times does '{s}' occur in '{w}'?",),
            "print('{w}'.count('{s}'))",
        ),
        F(
            "first-unique-char",
            "strings",
            lambda r: {
                "w": r.choice(
                    ["swiss", "programming", "letter", "success", "statistics", "balloon", "committee", "leetcode"]
                )
            },
            ("What is the first character of '{w}' that appears only once?",),
            "w = '{w}'\nprint(next(c for c in w if w.count(c) == 1))",
        ),
        F(
            "pangram",
            "text",
            lambda r: {"s": r.choice(SENTENCES)},
            ('Does "{s}" use every letter of the alphabet? Answer True or False.',),
            'import string\nprint(set(string.ascii_lowercase) <= set("{s}".lower()))',
        ),
        F(
            "word-lengths",
            "text",
            lambda r: {"s": r.choice(SENTENCES)},
            ('List the length of each word in "{s}", separated by spaces.',),
            "print(' '.join(str(len(w)) for w in \"{s}\".split()))",
        ),
        F(
            "strip-punctuation",
            "text",
            lambda r: {
                "s": r.choice(
                    [
                        "Hello, world! How are you?",
                        "Wait... what?! No way.",
                        "Costs: $5, maybe $6; who knows?",
                        "Yes! No? (Maybe.)",
                    ]
                )
            },
            ('Remove all punctuation from "{s}" and print what is left.',),
            "import string\nprint(''.join(c for c in \"{s}\" if c not in string.punctuation))",
        ),
        F(
            "common-prefix",
            "strings",
            lambda r: {
                "ws": r.choice(
                    [
                        ["flower", "flow", "flight"],
                        ["interview", "internet", "interval"],
                        ["prefix", "preview", "press"],
                        ["dog", "dot", "door"],
                        ["cartoon", "carpet", "cargo"],
                    ]
                )
            },
            ("What is the longest common prefix of the words {ws}?",),
            "import os\nprint(os.path.commonprefix({ws}))",
        ),
        F(
            "zero-pad",
            "strings",
            lambda r: {"n": ri(r, 1, 9999), "w": ri(r, 5, 9)},
            ("Write {n} padded with leading zeros to {w} digits.",),
            "print(str({n}).zfill({w}))",
        ),
        F(
            "words-starting-with",
            "text",
            lambda r: {"s": r.choice(SENTENCES), "c": r.choice("stcbp")},
            ("How many words in \"{s}\" start with the letter '{c}' (either case)?",),
            "print(sum(w.lower().startswith('{c}') for w in \"{s}\".split()))",
        ),
        F(
            "nth-char",
            "strings",
            lambda r: {"w": r.choice(WORDS), "k": ri(r, 1, 5)},
            ("What is letter number {k} of the word '{w}' (counting from 1)?",),
            "print('{w}'[{k} - 1])",
        ),
        F(
            "swap-case",
            "strings",
            lambda r: {"s": r.choice(["Hello World", "PyThOn", "eCoAgent", "Mixed CASE text"])},
            ("Swap the case of every letter in '{s}'.",),
            "print('{s}'.swapcase())",
        ),
        F(
            "hamming",
            "strings",
            lambda r: {
                "a": "".join(r.choice("ACGT") for _ in range(12)),
                "b": "".join(r.choice("ACGT") for _ in range(12)),
            },
            (
                "What is the Hamming distance between {a} and {b}?",
                "In how many positions do the strings {a} and {b} differ?",
            ),
            "print(sum(x != y for x, y in zip('{a}', '{b}')))",
        ),
        F(
            "run-length",
            "encodings",
            lambda r: {"w": "".join(r.choice("ab") * r.randint(1, 4) for _ in range(r.randint(3, 6)))},
            ("Run-length encode '{w}' (each run as the count then the letter, e.g. 3a).",),
            "from itertools import groupby\nprint(''.join(str(len(list(g))) + k for k, g in groupby('{w}')))",
        ),
        F(
            "isogram",
            "strings",
            lambda r: {"w": r.choice(WORDS + ["dermatoglyphics", "background", "lumberjack", "world"])},
            ("Does '{w}' have no repeated letters? Answer True or False.",),
            "print(len(set('{w}')) == len('{w}'))",
        ),
        F(
            "char-positions",
            "strings",
            lambda r: {"w": r.choice(WORDS), "c": r.choice("aeoslt")},
            (
                "At which positions (0-based) does '{c}' appear in '{w}'? Print them separated by spaces, or -1 if none.",
            ),
            "p = [str(i) for i, c in enumerate('{w}') if c == '{c}']\nprint(' '.join(p) if p else -1)",
        ),
        # ---- lists
        F(
            "sum-odd",
            "lists",
            lambda r: {"xs": _xs(r, 1, 99)},
            ("What is the sum of the odd numbers in {xs}?",),
            "print(sum(x for x in {xs} if x % 2))",
        ),
        F(
            "list-product",
            "lists",
            lambda r: {"xs": _xs(r, 1, 12, 3, 7)},
            ("What is the product of all the numbers in {xs}?", "Multiply together every number of {xs}."),
            "import math\nprint(math.prod({xs}))",
        ),
        F(
            "index-of-min",
            "lists",
            lambda r: {"xs": _xs(r, -50, 50)},
            ("At which index (0-based) is the smallest value of {xs}? (the first if tied)",),
            "xs = {xs}\nprint(xs.index(min(xs)))",
        ),
        F(
            "top-k",
            "lists",
            lambda r: {"xs": _xs(r, 1, 500, 6, 10), "k": ri(r, 2, 4)},
            ("What are the {k} largest numbers in {xs}, largest first? Print them separated by spaces.",),
            "print(' '.join(map(str, sorted({xs}, reverse=True)[:{k}])))",
        ),
        F(
            "intersection",
            "lists",
            lambda r: {"a": _xs(r, 1, 20), "b": _xs(r, 1, 20)},
            ("Which numbers appear in both {a} and {b}? Print them sorted, separated by spaces ('none' if none).",),
            "print(' '.join(map(str, sorted(set({a}) & set({b})))) or 'none')",
        ),
        F(
            "difference",
            "lists",
            lambda r: {"a": _xs(r, 1, 20), "b": _xs(r, 1, 20)},
            (
                "Which numbers of {a} are not in {b}? Print the distinct ones sorted, separated by spaces ('none' if none).",
            ),
            "print(' '.join(map(str, sorted(set({a}) - set({b})))) or 'none')",
        ),
        F(
            "pairs-to-target",
            "lists",
            lambda r: {"xs": _xs(r, 1, 15, 6, 10), "t": ri(r, 8, 20)},
            ("How many pairs of positions i < j in {xs} have values adding up to {t}?",),
            "xs = {xs}\nprint(sum(1 for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[i] + xs[j] == {t}))",
        ),
        F(
            "flatten-sum",
            "lists",
            lambda r: {"xs": [_xs(r, 1, 9, 1, 4) for _ in range(r.randint(2, 4))]},
            ("What is the sum of all numbers in the nested list {xs}?",),
            "print(sum(x for row in {xs} for x in row))",
        ),
        F(
            "count-negatives",
            "lists",
            lambda r: {"xs": _xs(r, -30, 30)},
            ("How many negative numbers are in {xs}?",),
            "print(sum(x < 0 for x in {xs}))",
        ),
        F(
            "dot-product",
            "lists",
            lambda r: {"a": [r.randint(-9, 9) for _ in range(4)], "b": [r.randint(-9, 9) for _ in range(4)]},
            ("What is the dot product of the vectors {a} and {b}?",),
            "print(sum(x * y for x, y in zip({a}, {b})))",
        ),
        F(
            "moving-average",
            "lists",
            lambda r: {"xs": _xs(r, 1, 50, 5, 7), "k": ri(r, 2, 3)},
            ("Compute the moving average with window {k} of {xs}, each rounded to 2 decimals, separated by spaces.",),
            "xs = {xs}\nprint(' '.join(str(round(sum(xs[i:i + {k}]) / {k}, 2)) for i in range(len(xs) - {k} + 1)))",
        ),
        F(
            "index-of",
            "lists",
            lambda r: (lambda xs: {"xs": xs, "v": r.choice(xs)})(r.sample(range(1, 60), 7)),
            ("Here is a list: {xs}. At which index (0-based) is the number {v}?",),
            "print({xs}.index({v}))",
        ),
        F(
            "even-squares",
            "lists",
            lambda r: {"xs": _xs(r, 1, 20)},
            (
                "Square each even number of {xs} and print the squares separated by spaces, in order ('none' if there are none).",
            ),
            "print(' '.join(str(x * x) for x in {xs} if x % 2 == 0) or 'none')",
        ),
        F(
            "list-frequency-of",
            "lists",
            lambda r: {"xs": _xs(r, 1, 5, 8, 14), "v": ri(r, 1, 5)},
            ("How many times does {v} appear in {xs}?",),
            "print({xs}.count({v}))",
        ),
        # ---- dates and times
        F(
            "day-of-year",
            "dates",
            lambda r: {"d": _date(r)},
            ("Which day of the year is {d}? (January 1 is day 1)",),
            "from datetime import date\nprint(date.fromisoformat('{d}').timetuple().tm_yday)",
        ),
        F(
            "days-in-month",
            "dates",
            lambda r: {"y": ri(r, 1900, 2100), "m": ri(r, 1, 12)},
            ("How many days are in month {m} of the year {y}?",),
            "import calendar\nprint(calendar.monthrange({y}, {m})[1])",
        ),
        F(
            "add-minutes",
            "times",
            lambda r: {"t": _hhmm(r), "k": ri(r, 5, 1500)},
            ("What time is it {k} minutes after {t}? Answer as HH:MM on a 24-hour clock.",),
            "h, m = map(int, '{t}'.split(':'))\ntotal = (h * 60 + m + {k}) % (24 * 60)\nprint(f'{{total // 60:02d}}:{{total % 60:02d}}')",
        ),
        F(
            "iso-week",
            "dates",
            lambda r: {"d": _date(r)},
            ("What is the ISO week number of {d}?",),
            "from datetime import date\nprint(date.fromisoformat('{d}').isocalendar()[1])",
        ),
        F(
            "date-format",
            "dates",
            lambda r: {"d": _date(r)},
            ("Write the date {d} as 'Month D, YYYY' (for example March 5, 2024).",),
            "from datetime import date\nd = date.fromisoformat('{d}')\nprint(f'{{d:%B}} {{d.day}}, {{d.year}}')",
        ),
        F(
            "unix-time",
            "dates",
            lambda r: {"d": _date(r)},
            ("What is the Unix timestamp of {d} at midnight UTC?",),
            "from datetime import datetime, timezone\nprint(int(datetime.fromisoformat('{d}').replace(tzinfo=timezone.utc).timestamp()))",
        ),
        F(
            "hours-to-days",
            "times",
            lambda r: {"h": ri(r, 25, 2000)},
            (
                "How many whole days and remaining hours are in {h} hours? Print the days and hours separated by a space.",
            ),
            "print({h} // 24, {h} % 24)",
        ),
        # ---- money and units
        F(
            "celsius-fahrenheit",
            "units",
            lambda r: {"c": ri(r, -40, 120)},
            ("What is {c} degrees Celsius in Fahrenheit?", "Convert {c} °C to °F."),
            "print({c} * 9 / 5 + 32)",
        ),
        F(
            "fahrenheit-celsius",
            "units",
            lambda r: {"f": ri(r, -40, 250)},
            ("What is {f} °F in Celsius, to 1 decimal?",),
            "print(round(({f} - 32) * 5 / 9, 1))",
        ),
        F(
            "unit-price",
            "money",
            lambda r: {"p": round(r.uniform(1, 30), 2), "g": ri(r, 100, 2000)},
            ("A pack of {g} g costs ${p}. What is the price per kilogram, to 2 decimals?",),
            "print(round({p} / {g} * 1000, 2))",
        ),
        F(
            "simple-interest",
            "money",
            lambda r: {"p": ri(r, 100, 50000), "r": r.choice([2, 3.5, 4, 5, 7.5]), "y": ri(r, 1, 10)},
            ("How much simple interest does ${p} earn at {r}% a year over {y} years?",),
            "print(round({p} * {r} / 100 * {y}, 2))",
        ),
        F(
            "profit-margin",
            "money",
            lambda r: {"c": ri(r, 10, 500), "s": ri(r, 20, 900)},
            (
                "An item costs {c} to make and sells for {s}. What is the profit margin as a percentage of the price, to 1 decimal?",
            ),
            "print(round(({s} - {c}) / {s} * 100, 1))",
        ),
        F(
            "inches-cm",
            "units",
            lambda r: {"i": ri(r, 1, 300)},
            ("How many centimeters are {i} inches? (1 inch = 2.54 cm)",),
            "print(round({i} * 2.54, 2))",
        ),
        F(
            "liters-gallons",
            "units",
            lambda r: {"l": ri(r, 1, 500)},
            ("How many US gallons are {l} liters, to 3 decimals? (1 gallon = 3.785411784 liters)",),
            "print(round({l} / 3.785411784, 3))",
        ),
        F(
            "bytes-human",
            "units",
            lambda r: {"b": ri(r, 10**6, 10**11)},
            ("How many MiB are {b} bytes, to 2 decimals?",),
            "print(round({b} / 1024 ** 2, 2))",
        ),
        F(
            "overtime-pay",
            "money",
            lambda r: {"h": ri(r, 20, 70), "w": ri(r, 10, 60)},
            (
                "Someone earns ${w} an hour, and 1.5 times that for every hour over 40 in a week. What do they earn for {h} hours?",
            ),
            "h, w = {h}, {w}\nprint(min(h, 40) * w + max(h - 40, 0) * w * 1.5)",
        ),
        # ---- statistics
        F(
            "geometric-mean",
            "statistics",
            lambda r: {"xs": _xs(r, 1, 40, 3, 6)},
            ("What is the geometric mean of {xs}, to 3 decimals?",),
            "import statistics\nprint(round(statistics.geometric_mean({xs}), 3))",
        ),
        F(
            "count-in-range",
            "statistics",
            lambda r: {"xs": _xs(r, 0, 100, 8, 12), "lo": ri(r, 10, 40), "hi": ri(r, 50, 90)},
            ("How many of {xs} lie between {lo} and {hi}, inclusive?",),
            "print(sum({lo} <= x <= {hi} for x in {xs}))",
        ),
        F(
            "correlation",
            "statistics",
            lambda r: {"xs": [r.randint(1, 20) for _ in range(6)], "ys": [r.randint(1, 20) for _ in range(6)]},
            ("What is the Pearson correlation of x = {xs} and y = {ys}, to 3 decimals?",),
            "import statistics\nprint(round(statistics.correlation({xs}, {ys}), 3))",
        ),
        F(
            "harmonic-mean",
            "statistics",
            lambda r: {"xs": _xs(r, 1, 90, 3, 5)},
            ("What is the harmonic mean of the speeds {xs}, to 2 decimals?",),
            "import statistics\nprint(round(statistics.harmonic_mean({xs}), 2))",
        ),
        # ---- data given in the query
        F(
            "csv-average",
            "data",
            lambda r: {"csv": _sales_csv(r)},
            (
                "What is the average amount in this CSV, to 2 decimals?\n{csv}",
                "{csv}\nCompute the mean of the amount column (2 decimals).",
            ),
            "import csv, io\nrows = list(csv.DictReader(io.StringIO('''{csv}''')))\nprint(round(sum(int(x['amount']) for x in rows) / len(rows), 2))",
        ),
        F(
            "csv-group-total",
            "data",
            lambda r: {"csv": _sales_csv(r), "g": r.choice(["north", "south", "east", "west"])},
            ("Here are sales:\n{csv}\nWhat is the total amount for the {g} region? (0 if none)",),
            "import csv, io\nrows = csv.DictReader(io.StringIO('''{csv}'''))\nprint(sum(int(x['amount']) for x in rows if x['region'] == '{g}'))",
        ),
        F(
            "json-filter",
            "data",
            lambda r: {"j": _people_json(r), "a": ri(r, 20, 50)},
            ("From {j}, list the names of people older than {a}, separated by commas (in order; 'none' if nobody).",),
            "import json\nnames = [p['name'] for p in json.loads('{j}') if p['age'] > {a}]\nprint(','.join(names) if names else 'none')",
        ),
        F(
            "json-count-city",
            "data",
            lambda r: {"j": _people_json(r), "c": r.choice(CITIES)},
            ("How many people in this JSON live in {c}?\n{j}",),
            "import json\nprint(sum(p['city'] == '{c}' for p in json.loads('{j}')))",
        ),
        F(
            "json-keys",
            "data",
            lambda r: {
                "j": __import__("json").dumps(
                    {
                        k: r.randint(1, 9)
                        for k in r.sample(
                            ["host", "port", "user", "debug", "timeout", "retries", "path"], r.randint(3, 6)
                        )
                    }
                )
            },
            ("List the keys of the JSON object {j} in alphabetical order, separated by spaces.",),
            "import json\nprint(' '.join(sorted(json.loads('{j}'))))",
        ),
        F(
            "access-log-status",
            "data",
            lambda r: {"log": _access_log(r), "s": r.choice([200, 404, 500, 302])},
            ("In this access log, how many requests returned status {s}?\n{log}",),
            "print(sum(line.split()[-1] == '{s}' for line in '''{log}'''.splitlines()))",
        ),
        F(
            "access-log-top-ip",
            "data",
            lambda r: {"log": _access_log(r)},
            (
                "{log}\nWhich IP address made the most requests in the log above? (the first to reach the top count if tied)",
            ),
            "from collections import Counter\nprint(Counter(line.split()[0] for line in '''{log}'''.splitlines()).most_common(1)[0][0])",
        ),
        F(
            "kv-max-key",
            "data",
            lambda r: {
                "kv": ", ".join(
                    f"{k}={r.randint(1, 99)}" for k in r.sample(["red", "green", "blue", "gold", "gray"], 4)
                )
            },
            ("In '{kv}', which key has the largest value? (the first if tied)",),
            "pairs = [p.split('=') for p in '{kv}'.split(', ')]\nprint(max(pairs, key=lambda p: int(p[1]))[0])",
        ),
        F(
            "url-parts",
            "data",
            lambda r: {
                "u": f"https://{r.choice(['shop', 'api', 'www'])}.{r.choice(['example.com', 'test.org'])}/{r.choice(['items', 'search'])}?q={r.choice(WORDS)}&page={r.randint(1, 9)}",
                "k": r.choice(["q", "page"]),
            },
            ("What is the value of the '{k}' parameter in {u}?",),
            "from urllib.parse import urlparse, parse_qs\nprint(parse_qs(urlparse('{u}').query)['{k}'][0])",
        ),
        F(
            "url-host",
            "data",
            lambda r: {
                "u": f"https://{r.choice(['shop', 'api', 'docs'])}.{r.choice(['example.com', 'test.org', 'site.net'])}:{r.choice([443, 8080])}/{r.choice(['a', 'b/c'])}"
            },
            ("What is the host name in the URL {u}?",),
            "from urllib.parse import urlparse\nprint(urlparse('{u}').hostname)",
        ),
        # ---- regular expressions
        F(
            "hashtags",
            "regex",
            lambda r: {"t": " ".join(r.choice(["#" + w, w]) for w in r.sample(WORDS, 6))},
            ('How many hashtags are in "{t}"?',),
            "import re\nprint(len(re.findall(r'#\\w+', '{t}')))",
        ),
        F(
            "capitalized-words",
            "regex",
            lambda r: {"s": r.choice(SENTENCES)},
            ("Which words in \"{s}\" start with a capital letter? Print them separated by spaces ('none' if none).",),
            "import re\nw = re.findall(r'\\b[A-Z]\\w*', \"{s}\")\nprint(' '.join(w) if w else 'none')",
        ),
        F(
            "phone-digits",
            "regex",
            lambda r: {"p": f"({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}"},
            ("Keep only the digits of the phone number {p}.",),
            "import re\nprint(re.sub(r'\\D', '', '{p}'))",
        ),
        # ---- encodings and hashing
        F(
            "ascii-codes",
            "encodings",
            lambda r: {"w": r.choice(WORDS)[:6]},
            ("What are the ASCII codes of the letters of '{w}'? Print them separated by spaces.",),
            "print(' '.join(str(ord(c)) for c in '{w}'))",
        ),
        F(
            "sha1",
            "hashing",
            lambda r: {"w": r.choice(WORDS)},
            ("What is the SHA-1 hex digest of '{w}'?",),
            "import hashlib\nprint(hashlib.sha1(b'{w}').hexdigest())",
        ),
        F(
            "url-encode",
            "encodings",
            lambda r: {"s": r.choice(["a b&c", "price=5 $", "hello world!", "x/y?z", "50% off"])},
            ("URL-encode the string '{s}' (spaces as %20).",),
            "from urllib.parse import quote\nprint(quote('{s}', safe=''))",
        ),
        F(
            "binary-to-int",
            "encodings",
            lambda r: {"b": bin(r.randint(5, 5000))[2:]},
            ("What is the binary number {b} in decimal?",),
            "print(int('{b}', 2))",
        ),
        F(
            "hex-to-int",
            "encodings",
            lambda r: {"h": hex(r.randint(255, 10**6))[2:]},
            ("Convert the hexadecimal number {h} to decimal.",),
            "print(int('{h}', 16))",
        ),
        # ---- geometry
        F(
            "rectangle",
            "geometry",
            lambda r: {"w": ri(r, 1, 100), "h": ri(r, 1, 100)},
            ("A rectangle is {w} by {h}. What are its area and perimeter? Print them separated by a space.",),
            "print({w} * {h}, 2 * ({w} + {h}))",
        ),
        F(
            "heron",
            "geometry",
            lambda r: {
                "s": r.choice([(3, 4, 5), (5, 5, 6), (7, 8, 9), (6, 10, 12), (13, 14, 15), (4, 7, 9), (10, 10, 10)])
            },
            ("What is the area of a triangle with sides {s}, to 2 decimals?",),
            "import math\na, b, c = {s}\np = (a + b + c) / 2\nprint(round(math.sqrt(p * (p - a) * (p - b) * (p - c)), 2))",
        ),
        F(
            "cylinder-volume",
            "geometry",
            lambda r: {"r": ri(r, 1, 30), "h": ri(r, 1, 50)},
            ("What is the volume of a cylinder of radius {r} and height {h}, to 2 decimals?",),
            "import math\nprint(round(math.pi * {r} ** 2 * {h}, 2))",
        ),
        F(
            "degrees-radians",
            "geometry",
            lambda r: {"d": ri(r, 1, 720)},
            ("How many radians are {d} degrees, to 4 decimals?",),
            "import math\nprint(round(math.radians({d}), 4))",
        ),
        F(
            "midpoint",
            "geometry",
            lambda r: {"a": (r.randint(-20, 20), r.randint(-20, 20)), "b": (r.randint(-20, 20), r.randint(-20, 20))},
            ("What is the midpoint of the segment from {a} to {b}? Print x and y separated by a space.",),
            "(x1, y1), (x2, y2) = {a}, {b}\nprint((x1 + x2) / 2, (y1 + y2) / 2)",
        ),
        F(
            "slope",
            "geometry",
            lambda r: {"a": (r.randint(-20, 20), r.randint(-20, 20)), "b": (r.randint(21, 40), r.randint(-20, 20))},
            ("What is the slope of the line through {a} and {b}, to 3 decimals?",),
            "(x1, y1), (x2, y2) = {a}, {b}\nprint(round((y2 - y1) / (x2 - x1), 3))",
        ),
        # ---- combinatorics
        F(
            "coin-change-ways",
            "combinatorics",
            lambda r: {"coins": r.choice([[1, 2, 5], [1, 5, 10, 25], [2, 3, 7], [1, 3, 4]]), "n": ri(r, 5, 100)},
            ("In how many ways can you make {n} from coins of {coins} (unlimited of each, order does not matter)?",),
            "ways = [1] + [0] * {n}\nfor c in {coins}:\n    for v in range(c, {n} + 1):\n        ways[v] += ways[v - c]\nprint(ways[{n}])",
        ),
        F(
            "strings-of-length",
            "combinatorics",
            lambda r: {"k": ri(r, 2, 26), "n": ri(r, 2, 8)},
            (
                "How many different strings of length {n} can be made from an alphabet of {k} letters (repetition allowed)?",
            ),
            "print({k} ** {n})",
        ),
        # ---- simulations
        F(
            "savings-goal",
            "simulation",
            lambda r: {"g": ri(r, 500, 20000), "m": ri(r, 50, 900), "s": ri(r, 0, 400)},
            ("Starting with ${s}, someone saves ${m} a month. After how many months do they have at least ${g}?",),
            "total, months = {s}, 0\nwhile total < {g}:\n    total += {m}\n    months += 1\nprint(months)",
        ),
        F(
            "bouncing-ball",
            "simulation",
            lambda r: {"h": ri(r, 2, 100), "b": r.choice([2, 3, 4])},
            (
                "A ball dropped from {h} m bounces back to 1/{b} of its height each time. How far has it travelled when it hits the ground for the 5th time, to 2 decimals?",
            ),
            "h, d = {h}, {h}\nfor _ in range(4):\n    h /= {b}\n    d += 2 * h\nprint(round(d, 2))",
        ),
        F(
            "stack-ops",
            "simulation",
            lambda r: {
                "ops": " ".join(
                    r.choice(["push " + str(r.randint(1, 9)), "push " + str(r.randint(1, 9)), "pop"])
                    for _ in range(r.randint(5, 9))
                )
            },
            (
                "Start with an empty stack and apply '{ops}' (pop on an empty stack does nothing). What is the sum of what is left?",
            ),
            "stack = []\nops = '{ops}'.split()\ni = 0\nwhile i < len(ops):\n    if ops[i] == 'push':\n        stack.append(int(ops[i + 1]))\n        i += 2\n    else:\n        if stack:\n            stack.pop()\n        i += 1\nprint(sum(stack))",
        ),
        F(
            "inventory",
            "simulation",
            lambda r: {"s": ri(r, 50, 500), "sold": _xs(r, 1, 40, 3, 7), "re": ri(r, 10, 100)},
            (
                "A shop starts with {s} units, sells {sold} on successive days, and receives {re} more after the second day. How many units are left?",
            ),
            "stock = {s}\nfor day, n in enumerate({sold}, 1):\n    stock -= n\n    if day == 2:\n        stock += {re}\nprint(stock)",
        ),
        F(
            "halvings",
            "simulation",
            lambda r: {"n": ri(r, 10, 10**9)},
            ("How many times must {n} be halved (integer division by 2) to reach 0?",),
            "n, k = {n}, 0\nwhile n:\n    n //= 2\n    k += 1\nprint(k)",
        ),
    ]

"""Write ``teacher.jsonl``: a broad teacher set for fine-tuning, many families of what people ask.

A code-executing assistant is asked far more than arithmetic: strings and text, lists,
dates, money and units, statistics, data pasted into the question (CSV rows, JSON, a
table, a log excerpt), regular expressions, encodings and hashing, geometry,
combinatorics, small simulations. Each *family* here is one kind of task: a generator of
parameters, several phrasings (questions and instructions, with and without "use
Python", numbers in words, data before or after the question) and the reference code.
Every expected answer is the output of its task's reference code, run here, so none is
typed by hand. Held-out-family measurements split by ``family`` (see
:func:`holdout_split`): a family is wholly on one side.

    .venv/bin/python benchmarks/tasks/make_teacher.py [--per-family 13] [--seed 0]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import io
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "teacher.jsonl"
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar"]
ITEMS = ["apple", "banana", "cherry", "mango", "pear", "plum", "kiwi", "lemon", "grape", "peach"]
WORDLIST = [
    "programming",
    "assistant",
    "container",
    "ladder",
    "banana",
    "mississippi",
    "encyclopedia",
    "rhythm",
    "queue",
    "strength",
    "onomatopoeia",
    "sandbox",
    "kayak",
    "racecar",
    "level",
    "python",
    "umbrella",
]


@dataclass(frozen=True)
class Family:
    """One kind of task: parameters, phrasings and the reference code (``{name}`` placeholders)."""

    name: str
    category: str
    params: Callable[[random.Random], dict[str, Any]]
    asks: tuple[str, ...]
    code: str


def _csv(r: random.Random, n: int) -> tuple[str, list[tuple[str, int, int]]]:
    rows = [(r.choice(ITEMS), r.randint(1, 40), r.randint(50, 900)) for _ in range(n)]
    return "item,qty,price_cents\n" + "\n".join(f"{a},{b},{c}" for a, b, c in rows), rows


def _log(r: random.Random, n: int) -> str:
    lines = []
    for i in range(n):
        level = r.choice(["INFO", "INFO", "WARN", "ERROR"])
        lines.append(
            f"2024-03-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00 {level} "
            f"service={r.choice(['api', 'db', 'auth'])} latency_ms={r.randint(5, 900)} req={i}"
        )
    return "\n".join(lines)


def _num_word(n: int) -> str:
    return WORDS[n] if 0 <= n < len(WORDS) else str(n)


def _families() -> list[Family]:
    F = Family
    ri = random.Random.randint
    fams = [
        # ---- arithmetic and number theory
        F(
            "product",
            "arithmetic",
            lambda r: {"a": ri(r, 12, 999), "b": ri(r, 12, 999)},
            ("What is {a} times {b}?", "Multiply {a} by {b}.", "Use Python to compute {a} * {b}."),
            "print({a} * {b})",
        ),
        F(
            "power-mod",
            "number theory",
            lambda r: {"a": ri(r, 2, 50), "b": ri(r, 10, 200), "m": ri(r, 7, 1000)},
            ("What is {a} to the power {b}, modulo {m}?", "Compute pow({a}, {b}) mod {m}."),
            "print(pow({a}, {b}, {m}))",
        ),
        F(
            "gcd",
            "number theory",
            lambda r: {"a": ri(r, 100, 9999), "b": ri(r, 100, 9999)},
            ("What is the greatest common divisor of {a} and {b}?", "Find gcd({a}, {b}) with Python."),
            "import math\nprint(math.gcd({a}, {b}))",
        ),
        F(
            "lcm",
            "number theory",
            lambda r: {"a": ri(r, 2, 60), "b": ri(r, 2, 60)},
            ("What is the least common multiple of {a} and {b}?", "Give the LCM of {a} and {b}."),
            "import math\nprint(math.lcm({a}, {b}))",
        ),
        F(
            "is-prime",
            "number theory",
            lambda r: {"a": ri(r, 1000, 99999)},
            (
                "Is {a} a prime number? Answer True or False.",
                "Check with Python whether {a} is prime (print True or False).",
            ),
            "n = {a}\nprint(n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1)))",
        ),
        F(
            "prime-factors",
            "number theory",
            lambda r: {"a": ri(r, 100, 99999)},
            (
                "What are the prime factors of {a}, with repetition, smallest first? Print them separated by spaces.",
                "Factor {a} into primes and print the factors in ascending order, space-separated.",
            ),
            "n, f, out = {a}, 2, []\nwhile f * f <= n:\n    while n % f == 0:\n        out.append(f)\n        n //= f\n    f += 1\nif n > 1:\n    out.append(n)\nprint(' '.join(map(str, out)))",
        ),
        F(
            "digit-sum",
            "number theory",
            lambda r: {"a": ri(r, 2, 9), "b": ri(r, 10, 90)},
            ("What is the sum of the digits of {a}**{b}?", "Add up the decimal digits of {a} raised to {b}."),
            "print(sum(int(d) for d in str({a} ** {b})))",
        ),
        F(
            "collatz",
            "number theory",
            lambda r: {"a": ri(r, 5, 3000)},
            (
                "How many steps does the Collatz sequence starting at {a} take to reach 1?",
                "Starting from {a}, apply n -> n/2 (even) or 3n+1 (odd). Count the steps until you reach 1.",
            ),
            "n, s = {a}, 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n    s += 1\nprint(s)",
        ),
        F(
            "words-arith",
            "arithmetic",
            lambda r: {"a": ri(r, 2, 12), "b": ri(r, 2, 12), "c": ri(r, 2, 12)},
            (
                "What is {wa} plus {wb}, times {wc}? Compute ({wa} + {wb}) * {wc}.",
                "Take {wa}, add {wb}, then multiply the result by {wc}.",
            ),
            "print(({a} + {b}) * {c})",
        ),
        F(
            "perfect-squares",
            "number theory",
            lambda r: {"a": ri(r, 50, 5000)},
            (
                "How many perfect squares are there between 1 and {a} inclusive?",
                "Count the square numbers from 1 to {a}.",
            ),
            "import math\nprint(math.isqrt({a}))",
        ),
        F(
            "base-convert",
            "number theory",
            lambda r: {"a": ri(r, 100, 100000), "b": r.choice([3, 5, 7, 8])},
            ("Write {a} in base {b}.", "What is the base-{b} representation of {a}?"),
            "n, b, d = {a}, {b}, ''\nwhile n:\n    d = str(n % b) + d\n    n //= b\nprint(d)",
        ),
        F(
            "roman",
            "number theory",
            lambda r: {"a": ri(r, 1, 3999)},
            ("What is {a} in Roman numerals?", "Convert the number {a} to a Roman numeral."),
            "vals = [(1000,'M'),(900,'CM'),(500,'D'),(400,'CD'),(100,'C'),(90,'XC'),(50,'L'),(40,'XL'),(10,'X'),(9,'IX'),(5,'V'),(4,'IV'),(1,'I')]\nn, out = {a}, ''\nfor v, s in vals:\n    while n >= v:\n        out += s\n        n -= v\nprint(out)",
        ),
        F(
            "from-roman",
            "number theory",
            lambda r: {
                "s": r.choice(["MCMXCIV", "MMXXIV", "CDXLIV", "DCCCXC", "MMMCMXCIX", "XLII", "LXXXVIII", "CMXLV"])
            },
            ("What number is the Roman numeral {s}?", "Convert {s} from Roman numerals to an integer."),
            "v = dict(I=1, V=5, X=10, L=50, C=100, D=500, M=1000)\ns = '{s}'\nprint(sum(-v[a] if v[a] < v[b] else v[a] for a, b in zip(s, s[1:] + 'I')) if s else 0)",
        ),
        # ---- strings and text
        F(
            "consonants",
            "strings",
            lambda r: {"w": r.choice(WORDLIST)},
            ("How many letters of '{w}' are not vowels?", "Count the consonants in the word '{w}'."),
            "print(sum(c.isalpha() and c not in 'aeiou' for c in '{w}'))",
        ),
        F(
            "vowels",
            "strings",
            lambda r: {"w": r.choice(WORDLIST)},
            ("How many vowels are in '{w}'?", "Use Python to count the vowels (a, e, i, o, u) in '{w}'."),
            "print(sum(c in 'aeiou' for c in '{w}'))",
        ),
        F(
            "reverse",
            "strings",
            lambda r: {"w": r.choice(WORDLIST)},
            ("What is '{w}' spelled backwards?", "Reverse the string '{w}'."),
            "print('{w}'[::-1])",
        ),
        F(
            "palindrome",
            "strings",
            lambda r: {"w": r.choice(WORDLIST)},
            (
                "Is '{w}' a palindrome? Answer True or False.",
                "Check whether '{w}' reads the same backwards (True/False).",
            ),
            "print('{w}' == '{w}'[::-1])",
        ),
        F(
            "most-common-letter",
            "strings",
            lambda r: {"w": r.choice(WORDLIST)},
            ("Which letter appears most often in '{w}'? If tied, the one that comes first alphabetically.",),
            "from collections import Counter\nc = Counter('{w}')\nprint(min(c, key=lambda k: (-c[k], k)))",
        ),
        F(
            "word-count",
            "text",
            lambda r: {"t": " ".join(r.choice(WORDLIST) for _ in range(ri(r, 5, 14)))},
            ('How many words are in this sentence: "{t}"?', 'Text: "{t}". Count its words.'),
            "print(len('{t}'.split()))",
        ),
        F(
            "longest-word",
            "text",
            lambda r: {"t": " ".join(r.sample(WORDLIST, ri(r, 4, 8)))},
            ('What is the longest word in "{t}"? (the first one if tied)', 'Find the longest word of the text "{t}".'),
            "print(max('{t}'.split(), key=len))",
        ),
        F(
            "title-case",
            "text",
            lambda r: {"t": " ".join(r.sample(WORDLIST, ri(r, 3, 5)))},
            ('Convert "{t}" to title case.', 'Capitalize the first letter of each word in "{t}".'),
            "print('{t}'.title())",
        ),
        F(
            "char-frequency",
            "strings",
            lambda r: {"w": r.choice(WORDLIST), "c": r.choice("aeinrst")},
            ("How many times does the letter '{c}' occur in '{w}'?", "Count the '{c}' characters in '{w}'."),
            "print('{w}'.count('{c}'))",
        ),
        F(
            "anagram",
            "strings",
            lambda r: {
                "a": r.choice(["listen", "evil", "angel", "night", "below", "state"]),
                "b": r.choice(["silent", "vile", "glean", "thing", "elbow", "taste", "stone"]),
            },
            ("Are '{a}' and '{b}' anagrams of each other? Answer True or False.",),
            "print(sorted('{a}') == sorted('{b}'))",
        ),
        F(
            "caesar",
            "encodings",
            lambda r: {"w": r.choice(WORDLIST), "k": ri(r, 1, 25)},
            (
                "Encrypt '{w}' with a Caesar shift of {k}.",
                "Shift every letter of '{w}' forward by {k} places in the alphabet (wrapping z to a).",
            ),
            "print(''.join(chr((ord(c) - 97 + {k}) % 26 + 97) for c in '{w}'))",
        ),
        F(
            "remove-duplicates-chars",
            "strings",
            lambda r: {"w": r.choice(WORDLIST)},
            ("Remove repeated letters from '{w}', keeping the first occurrence of each.",),
            "print(''.join(dict.fromkeys('{w}')))",
        ),
        F(
            "snake-case",
            "text",
            lambda r: {"t": "".join(w.capitalize() for w in r.sample(WORDLIST, 3))},
            ("Convert the CamelCase name {t} to snake_case.", "What is {t} in snake_case?"),
            "import re\nprint(re.sub(r'(?<!^)(?=[A-Z])', '_', '{t}').lower())",
        ),
        # ---- lists and sorting
        F(
            "sort-numbers",
            "lists",
            lambda r: {"xs": ", ".join(str(ri(r, -50, 200)) for _ in range(ri(r, 5, 10)))},
            (
                "Sort these numbers in ascending order: {xs}",
                "Here are some numbers: {xs}. Print them sorted, smallest first, comma-separated.",
            ),
            "print(', '.join(map(str, sorted([{xs}]))))",
        ),
        F(
            "second-largest",
            "lists",
            lambda r: {"xs": ", ".join(str(x) for x in r.sample(range(1, 500), ri(r, 5, 10)))},
            ("What is the second largest number in [{xs}]?", "From the list {xs}, find the second-biggest value."),
            "print(sorted([{xs}])[-2])",
        ),
        F(
            "dedupe-count",
            "lists",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 12)) for _ in range(ri(r, 8, 16)))},
            ("How many distinct values are in the list {xs}?", "Count the unique numbers among {xs}."),
            "print(len(set([{xs}])))",
        ),
        F(
            "running-total",
            "lists",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 30)) for _ in range(ri(r, 4, 7)))},
            ("Give the running totals of {xs}, comma-separated.", "Print the cumulative sums of the sequence {xs}."),
            "import itertools\nprint(', '.join(map(str, itertools.accumulate([{xs}]))))",
        ),
        F(
            "max-gap",
            "lists",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 300)) for _ in range(ri(r, 5, 9)))},
            ("What is the largest difference between two consecutive numbers in {xs}?",),
            "xs = [{xs}]\nprint(max(abs(a - b) for a, b in zip(xs, xs[1:])))",
        ),
        F(
            "merge-sorted",
            "lists",
            lambda r: {
                "a": ", ".join(map(str, sorted(r.sample(range(100), 4)))),
                "b": ", ".join(map(str, sorted(r.sample(range(100), 4)))),
            },
            ("Merge the sorted lists [{a}] and [{b}] into one sorted list.",),
            "print(sorted([{a}] + [{b}]))",
        ),
        F(
            "count-above",
            "lists",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 100)) for _ in range(ri(r, 6, 12))), "t": ri(r, 20, 80)},
            ("How many numbers in {xs} are greater than {t}?", "Count the values above {t} in this list: {xs}."),
            "print(sum(x > {t} for x in [{xs}]))",
        ),
        F(
            "rotate-list",
            "lists",
            lambda r: {"xs": ", ".join(map(str, r.sample(range(1, 20), 6))), "k": ri(r, 1, 5)},
            ("Rotate the list [{xs}] to the right by {k} positions.",),
            "xs = [{xs}]\nk = {k} % len(xs)\nprint(xs[-k:] + xs[:-k])",
        ),
        F(
            "chunk-sums",
            "lists",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 9)) for _ in range(9)), "k": 3},
            ("Split [{xs}] into groups of {k} and give the sum of each group.",),
            "xs = [{xs}]\nprint([sum(xs[i:i + {k}]) for i in range(0, len(xs), {k})])",
        ),
        # ---- dates and times
        F(
            "days-after",
            "dates",
            lambda r: {"y": ri(r, 2000, 2030), "m": ri(r, 1, 12), "d": ri(r, 1, 28), "n": ri(r, 10, 400)},
            (
                "What date is {n} days after {y}-{m:02d}-{d:02d}? Answer as YYYY-MM-DD.",
                "Add {n} days to the date {y}-{m:02d}-{d:02d}.",
            ),
            "import datetime\nprint(datetime.date({y}, {m}, {d}) + datetime.timedelta(days={n}))",
        ),
        F(
            "days-between",
            "dates",
            lambda r: {
                "a": f"{ri(r, 1990, 2010)}-{ri(r, 1, 12):02d}-{ri(r, 1, 28):02d}",
                "b": f"{ri(r, 2011, 2030)}-{ri(r, 1, 12):02d}-{ri(r, 1, 28):02d}",
            },
            ("How many days are there between {a} and {b}?", "Count the days from {a} to {b}."),
            "import datetime\na, b = (datetime.date.fromisoformat(x) for x in ('{a}', '{b}'))\nprint((b - a).days)",
        ),
        F(
            "weekday",
            "dates",
            lambda r: {"s": f"{ri(r, 1900, 2100)}-{ri(r, 1, 12):02d}-{ri(r, 1, 28):02d}"},
            ("What day of the week was {s}?", "Which weekday does {s} fall on?"),
            "import datetime\nprint(datetime.date.fromisoformat('{s}').strftime('%A'))",
        ),
        F(
            "leap-years",
            "dates",
            lambda r: {"a": ri(r, 1800, 1950), "b": ri(r, 1960, 2100)},
            ("How many leap years are there from {a} to {b} inclusive?",),
            "import calendar\nprint(sum(calendar.isleap(y) for y in range({a}, {b} + 1)))",
        ),
        F(
            "minutes-between",
            "times",
            lambda r: {"a": f"{ri(r, 0, 11):02d}:{ri(r, 0, 59):02d}", "b": f"{ri(r, 12, 23):02d}:{ri(r, 0, 59):02d}"},
            ("How many minutes are there from {a} to {b} on the same day?",),
            "h1, m1 = map(int, '{a}'.split(':'))\nh2, m2 = map(int, '{b}'.split(':'))\nprint(h2 * 60 + m2 - h1 * 60 - m1)",
        ),
        F(
            "seconds-to-hms",
            "times",
            lambda r: {"s": ri(r, 100, 200000)},
            ("Convert {s} seconds to hours, minutes and seconds (H:MM:SS).",),
            "s = {s}\nprint(f'{{s // 3600}}:{{s % 3600 // 60:02d}}:{{s % 60:02d}}')",
        ),
        F(
            "fridays-13",
            "dates",
            lambda r: {"y": ri(r, 1990, 2040)},
            ("How many Friday the 13ths are there in {y}?", "Count the months of {y} whose 13th is a Friday."),
            "import datetime\nprint(sum(datetime.date({y}, m, 13).weekday() == 4 for m in range(1, 13)))",
        ),
        F(
            "age",
            "dates",
            lambda r: {
                "b": f"{ri(r, 1940, 2010)}-{ri(r, 1, 12):02d}-{ri(r, 1, 28):02d}",
                "t": f"{ri(r, 2020, 2030)}-{ri(r, 1, 12):02d}-{ri(r, 1, 28):02d}",
            },
            ("Someone was born on {b}. How old are they, in whole years, on {t}?",),
            "import datetime\nb, t = (datetime.date.fromisoformat(x) for x in ('{b}', '{t}'))\nprint(t.year - b.year - ((t.month, t.day) < (b.month, b.day)))",
        ),
        # ---- money and units
        F(
            "compound-interest",
            "money",
            lambda r: {"p": ri(r, 1, 50) * 100, "rate": r.choice([2, 3, 4, 5, 6, 7]), "y": ri(r, 2, 30)},
            ("${p} is invested at {rate}% a year, compounded yearly. What is it worth after {y} years, to the cent?",),
            "print(round({p} * (1 + {rate} / 100) ** {y}, 2))",
        ),
        F(
            "discount",
            "money",
            lambda r: {"p": ri(r, 10, 900), "d": r.choice([5, 10, 15, 20, 25, 30, 40])},
            ("A ${p} item is {d}% off. What is the sale price?", "Take {d} percent off a price of {p} dollars."),
            "print(round({p} * (1 - {d} / 100), 2))",
        ),
        F(
            "tip-split",
            "money",
            lambda r: {"b": ri(r, 20, 400), "t": r.choice([15, 18, 20]), "n": ri(r, 2, 8)},
            ("A bill of ${b} gets a {t}% tip and is split between {n} people. How much does each pay, to the cent?",),
            "print(round({b} * (1 + {t} / 100) / {n}, 2))",
        ),
        F(
            "loan-payment",
            "money",
            lambda r: {"p": ri(r, 5, 50) * 1000, "rate": r.choice([3, 4, 5, 6]), "y": r.choice([5, 10, 15])},
            ("What is the monthly payment on a ${p} loan at {rate}% annual interest over {y} years, to the cent?",),
            "p, i, n = {p}, {rate} / 100 / 12, {y} * 12\nprint(round(p * i / (1 - (1 + i) ** -n), 2))",
        ),
        F(
            "km-miles",
            "units",
            lambda r: {"k": ri(r, 1, 500)},
            ("How many miles is {k} km, rounded to 2 decimals?", "Convert {k} kilometres to miles (2 decimals)."),
            "print(round({k} / 1.609344, 2))",
        ),
        F(
            "kg-pounds",
            "units",
            lambda r: {"k": ri(r, 1, 200)},
            ("How many pounds is {k} kg, rounded to 1 decimal?",),
            "print(round({k} * 2.20462, 1))",
        ),
        F(
            "speed",
            "units",
            lambda r: {"d": ri(r, 5, 900), "h": ri(r, 1, 12)},
            ("A train covers {d} km in {h} hours. What is its average speed in m/s, to 2 decimals?",),
            "print(round({d} * 1000 / ({h} * 3600), 2))",
        ),
        F(
            "currency",
            "money",
            lambda r: {"a": ri(r, 10, 5000), "rate": r.choice([0.92, 1.08, 0.79, 149.5, 7.24])},
            ("At {rate} per dollar, how much is ${a} in the other currency, to 2 decimals?",),
            "print(round({a} * {rate}, 2))",
        ),
        # ---- statistics
        F(
            "median",
            "statistics",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 100)) for _ in range(ri(r, 5, 10)))},
            ("What is the median of {xs}?", "Find the median value of these numbers: {xs}."),
            "import statistics\nprint(statistics.median([{xs}]))",
        ),
        F(
            "mean",
            "statistics",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 100)) for _ in range(ri(r, 4, 9)))},
            ("What is the average of {xs}, rounded to 2 decimals?",),
            "xs = [{xs}]\nprint(round(sum(xs) / len(xs), 2))",
        ),
        F(
            "stdev",
            "statistics",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 50)) for _ in range(ri(r, 5, 9)))},
            ("What is the sample standard deviation of {xs}, to 3 decimals?",),
            "import statistics\nprint(round(statistics.stdev([{xs}]), 3))",
        ),
        F(
            "mode",
            "statistics",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 6)) for _ in range(ri(r, 8, 14)))},
            ("What is the most frequent value in {xs}? (the smallest if tied)",),
            "from collections import Counter\nc = Counter([{xs}])\nprint(min(c, key=lambda k: (-c[k], k)))",
        ),
        F(
            "range-stat",
            "statistics",
            lambda r: {"xs": ", ".join(str(ri(r, -40, 120)) for _ in range(ri(r, 5, 10)))},
            ("What is the range (max minus min) of {xs}?",),
            "xs = [{xs}]\nprint(max(xs) - min(xs))",
        ),
        F(
            "weighted-mean",
            "statistics",
            lambda r: {
                "v": ", ".join(str(ri(r, 50, 100)) for _ in range(3)),
                "w": ", ".join(str(ri(r, 1, 5)) for _ in range(3)),
            },
            ("Scores {v} have weights {w}. What is the weighted average, to 2 decimals?",),
            "v, w = [{v}], [{w}]\nprint(round(sum(a * b for a, b in zip(v, w)) / sum(w), 2))",
        ),
        F(
            "percentile-rank",
            "statistics",
            lambda r: {"xs": ", ".join(str(ri(r, 1, 100)) for _ in range(10)), "x": ri(r, 1, 100)},
            ("In the scores {xs}, what percentage are strictly below {x}?",),
            "xs = [{xs}]\nprint(sum(v < {x} for v in xs) * 100 / len(xs))",
        ),
        # ---- data given in the query
        F(
            "csv-total",
            "data",
            lambda r: {"csv": _csv(r, ri(r, 3, 7))[0]},
            (
                "Here is a CSV:\n{csv}\nWhat is the total value (qty times price) in dollars?",
                "What is the total value in dollars of this order (qty * price_cents / 100)?\n{csv}",
            ),
            "import csv, io\nrows = list(csv.DictReader(io.StringIO('''{csv}''')))\nprint(sum(int(r['qty']) * int(r['price_cents']) for r in rows) / 100)",
        ),
        F(
            "csv-max-qty",
            "data",
            lambda r: {"csv": _csv(r, ri(r, 3, 7))[0]},
            ("Which item has the largest qty in this CSV? (the first if tied)\n{csv}",),
            "import csv, io\nrows = list(csv.DictReader(io.StringIO('''{csv}''')))\nprint(max(rows, key=lambda r: int(r['qty']))['item'])",
        ),
        F(
            "json-sum",
            "data",
            lambda r: {"j": json.dumps([{"name": n, "score": ri(r, 0, 100)} for n in r.sample(NAMES, ri(r, 3, 6))])},
            ("Given the JSON {j}, what is the sum of the scores?", "Sum the 'score' fields of this JSON array: {j}"),
            "import json\nprint(sum(x['score'] for x in json.loads('{j}')))",
        ),
        F(
            "json-top",
            "data",
            lambda r: {"j": json.dumps([{"name": n, "score": ri(r, 0, 100)} for n in r.sample(NAMES, ri(r, 3, 6))])},
            ("Who has the highest score in {j}? (the first if tied)",),
            "import json\nprint(max(json.loads('{j}'), key=lambda x: x['score'])['name'])",
        ),
        F(
            "json-nested",
            "data",
            lambda r: {
                "j": json.dumps({"team": {"members": [{"n": n, "age": ri(r, 20, 60)} for n in r.sample(NAMES, 4)]}})
            },
            ("In this JSON, what is the average age of the team members?\n{j}",),
            "import json\nm = json.loads('{j}')['team']['members']\nprint(sum(x['age'] for x in m) / len(m))",
        ),
        F(
            "table-lookup",
            "data",
            lambda r: {
                "rows": "\n".join(
                    f"| {n} | {ri(r, 18, 70)} | {r.choice(['Oslo', 'Lima', 'Pune', 'Kyiv'])} |"
                    for n in r.sample(NAMES, 5)
                )
            },
            ("| name | age | city |\n|---|---|---|\n{rows}\nHow many people in the table are older than 40?",),
            "rows = '''{rows}'''.splitlines()\nprint(sum(int(r.split('|')[2]) > 40 for r in rows))",
        ),
        F(
            "log-errors",
            "data",
            lambda r: {"log": _log(r, ri(r, 6, 12))},
            ("How many ERROR lines are in this log?\n{log}", "Count the lines with level ERROR:\n{log}"),
            "print(sum(' ERROR ' in l for l in '''{log}'''.splitlines()))",
        ),
        F(
            "log-latency",
            "data",
            lambda r: {"log": _log(r, ri(r, 6, 12)), "s": r.choice(["api", "db", "auth"])},
            ("{log}\nWhat is the highest latency_ms for service={s} in the log above? (0 if none)",),
            "import re\nv = [int(m.group(1)) for l in '''{log}'''.splitlines() if 'service={s} ' in l for m in [re.search(r'latency_ms=(\\d+)', l)]]\nprint(max(v, default=0))",
        ),
        F(
            "kv-parse",
            "data",
            lambda r: {
                "kv": ";".join(f"{k}={ri(r, 1, 99)}" for k in r.sample(["cpu", "mem", "disk", "net", "gpu"], 4))
            },
            ("Parse '{kv}' and print the sum of the values.",),
            "print(sum(int(p.split('=')[1]) for p in '{kv}'.split(';')))",
        ),
        # ---- regular expressions
        F(
            "extract-emails",
            "regex",
            lambda r: {
                "t": " ".join(
                    f"{n}@{r.choice(['ex.com', 'mail.org'])}" if r.random() < 0.5 else r.choice(WORDLIST)
                    for n in r.sample(NAMES, 6)
                )
            },
            ('How many email addresses are in: "{t}"?',),
            "import re\nprint(len(re.findall(r'[\\w.]+@[\\w.]+\\.\\w+', '{t}')))",
        ),
        F(
            "extract-numbers",
            "regex",
            lambda r: {"t": " ".join(f"{r.choice(ITEMS)}{ri(r, 1, 99)}" for _ in range(5))},
            ('What is the sum of all the numbers that appear in "{t}"?',),
            "import re\nprint(sum(int(x) for x in re.findall(r'\\d+', '{t}')))",
        ),
        F(
            "valid-ipv4",
            "regex",
            lambda r: {"ip": ".".join(str(ri(r, 0, 300)) for _ in range(4))},
            ("Is {ip} a valid IPv4 address? Answer True or False.",),
            "parts = '{ip}'.split('.')\nprint(len(parts) == 4 and all(p.isdigit() and 0 <= int(p) <= 255 for p in parts))",
        ),
        F(
            "dates-in-text",
            "regex",
            lambda r: {
                "t": " and ".join(
                    f"{ri(r, 2000, 2024)}-{ri(r, 1, 12):02d}-{ri(r, 1, 28):02d}" for _ in range(ri(r, 2, 4))
                )
            },
            ('Which is the latest date mentioned in "Deadlines: {t}"?',),
            "import re\nprint(max(re.findall(r'\\d{{4}}-\\d{{2}}-\\d{{2}}', '{t}')))",
        ),
        # ---- encodings and hashing
        F(
            "sha256",
            "hashing",
            lambda r: {"w": r.choice(WORDLIST)},
            ("What are the first 12 hex characters of the SHA-256 of '{w}'?",),
            "import hashlib\nprint(hashlib.sha256(b'{w}').hexdigest()[:12])",
        ),
        F(
            "md5",
            "hashing",
            lambda r: {"w": r.choice(WORDLIST)},
            ("Give the MD5 hex digest of the string '{w}'.",),
            "import hashlib\nprint(hashlib.md5(b'{w}').hexdigest())",
        ),
        F(
            "base64",
            "encodings",
            lambda r: {"w": r.choice(WORDLIST)},
            ("Encode '{w}' in base64.", "What is the base64 encoding of the text '{w}'?"),
            "import base64\nprint(base64.b64encode(b'{w}').decode())",
        ),
        F(
            "base64-decode",
            "encodings",
            lambda r: {"b": __import__("base64").b64encode(r.choice(WORDLIST).encode()).decode()},
            ("Decode the base64 string {b}.",),
            "import base64\nprint(base64.b64decode('{b}').decode())",
        ),
        F(
            "hex-bytes",
            "encodings",
            lambda r: {"w": r.choice(WORDLIST)},
            ("What is '{w}' as a hex string of its UTF-8 bytes?",),
            "print('{w}'.encode().hex())",
        ),
        F(
            "crc32",
            "hashing",
            lambda r: {"w": r.choice(WORDLIST)},
            ("What is the CRC-32 of '{w}', as an unsigned decimal number?",),
            "import zlib\nprint(zlib.crc32(b'{w}'))",
        ),
        # ---- geometry
        F(
            "circle-area",
            "geometry",
            lambda r: {"rad": ri(r, 1, 50)},
            (
                "What is the area of a circle of radius {rad}, rounded to 2 decimals?",
                "Compute pi * {rad}^2 to two decimal places.",
            ),
            "import math\nprint(round(math.pi * {rad} ** 2, 2))",
        ),
        F(
            "hypotenuse",
            "geometry",
            lambda r: {"a": ri(r, 1, 40), "b": ri(r, 1, 40)},
            ("A right triangle has legs {a} and {b}. How long is the hypotenuse, to 3 decimals?",),
            "import math\nprint(round(math.hypot({a}, {b}), 3))",
        ),
        F(
            "distance",
            "geometry",
            lambda r: {"x1": ri(r, -20, 20), "y1": ri(r, -20, 20), "x2": ri(r, -20, 20), "y2": ri(r, -20, 20)},
            ("What is the distance between ({x1}, {y1}) and ({x2}, {y2}), to 3 decimals?",),
            "import math\nprint(round(math.dist(({x1}, {y1}), ({x2}, {y2})), 3))",
        ),
        F(
            "polygon-area",
            "geometry",
            lambda r: {"pts": [(ri(r, 0, 10), ri(r, 0, 10)) for _ in range(3)]},
            ("What is the area of the triangle with vertices {pts}?",),
            "p = {pts}\nprint(abs(sum(p[i][0] * p[(i + 1) % 3][1] - p[(i + 1) % 3][0] * p[i][1] for i in range(3))) / 2)",
        ),
        F(
            "sphere-volume",
            "geometry",
            lambda r: {"rad": ri(r, 1, 30)},
            ("What is the volume of a sphere of radius {rad}, rounded to 1 decimal?",),
            "import math\nprint(round(4 / 3 * math.pi * {rad} ** 3, 1))",
        ),
        F(
            "angle-between",
            "geometry",
            lambda r: {"h": ri(r, 1, 12), "m": r.choice([0, 10, 15, 20, 30, 40, 45, 50])},
            ("What is the smaller angle in degrees between the hands of a clock at {h}:{m:02d}?",),
            "a = abs(30 * ({h} % 12) - 5.5 * {m})\nprint(min(a, 360 - a))",
        ),
        # ---- combinatorics
        F(
            "choose",
            "combinatorics",
            lambda r: {"n": ri(r, 5, 40), "k": ri(r, 2, 5)},
            ("How many ways are there to choose {k} items from {n}?", "Compute {n} choose {k}."),
            "import math\nprint(math.comb({n}, {k}))",
        ),
        F(
            "permutations",
            "combinatorics",
            lambda r: {"n": ri(r, 5, 15), "k": ri(r, 2, 4)},
            ("How many ordered arrangements of {k} out of {n} distinct items are there?",),
            "import math\nprint(math.perm({n}, {k}))",
        ),
        F(
            "word-arrangements",
            "combinatorics",
            lambda r: {"w": r.choice(WORDLIST[:12])},
            ("How many distinct arrangements of the letters of '{w}' are there?",),
            "import math\nfrom collections import Counter\nw = '{w}'\nn = math.factorial(len(w))\nfor c in Counter(w).values():\n    n //= math.factorial(c)\nprint(n)",
        ),
        F(
            "dice-sum",
            "combinatorics",
            lambda r: {"d": ri(r, 2, 4), "s": ri(r, 5, 14)},
            ("When rolling {d} six-sided dice, in how many of the outcomes do they sum to {s}?",),
            "import itertools\nprint(sum(sum(t) == {s} for t in itertools.product(range(1, 7), repeat={d})))",
        ),
        F(
            "subsets-sum",
            "combinatorics",
            lambda r: {"xs": sorted(r.sample(range(1, 20), 6)), "t": ri(r, 10, 30)},
            ("How many subsets of {xs} sum to exactly {t}?",),
            "import itertools\nxs = {xs}\nprint(sum(sum(c) == {t} for k in range(len(xs) + 1) for c in itertools.combinations(xs, k)))",
        ),
        F(
            "grid-paths",
            "combinatorics",
            lambda r: {"w": ri(r, 2, 10), "h": ri(r, 2, 10)},
            (
                "How many shortest paths go from one corner of a {w} by {h} grid to the opposite corner, moving only right or down?",
            ),
            "import math\nprint(math.comb({w} + {h}, {w}))",
        ),
        # ---- simulations
        F(
            "bank-balance",
            "simulation",
            lambda r: {"b": ri(r, 100, 1000), "d": ri(r, 10, 100), "w": ri(r, 5, 90), "n": ri(r, 3, 12)},
            (
                "An account starts at {b}. Each month {d} is deposited and then {w} withdrawn. What is the balance after {n} months?",
            ),
            "b = {b}\nfor _ in range({n}):\n    b += {d}\n    b -= {w}\nprint(b)",
        ),
        F(
            "population",
            "simulation",
            lambda r: {"p": ri(r, 100, 5000), "g": r.choice([2, 3, 5, 8, 10]), "y": ri(r, 2, 20)},
            (
                "A population of {p} grows {g}% a year (rounded down to whole individuals each year). How big is it after {y} years?",
            ),
            "p = {p}\nfor _ in range({y}):\n    p = p * (100 + {g}) // 100\nprint(p)",
        ),
        F(
            "seeded-random",
            "simulation",
            lambda r: {"s": ri(r, 0, 999), "n": ri(r, 3, 10)},
            ("With Python's random.seed({s}), what is the sum of {n} calls to random.randint(1, 6)?",),
            "import random\nrandom.seed({s})\nprint(sum(random.randint(1, 6) for _ in range({n})))",
        ),
        F(
            "queue-sim",
            "simulation",
            lambda r: {"jobs": [ri(r, 1, 9) for _ in range(ri(r, 4, 8))], "k": ri(r, 2, 3)},
            (
                "Jobs with durations {jobs} arrive at once and go, in order, to whichever of {k} workers frees up first. When does the last one finish?",
            ),
            "import heapq\nw = [0] * {k}\nfor d in {jobs}:\n    heapq.heappush(w, heapq.heappop(w) + d)\nprint(max(w))",
        ),
        F(
            "game-of-life",
            "simulation",
            lambda r: {"cells": sorted({(ri(r, 0, 5), ri(r, 0, 5)) for _ in range(8)}), "g": ri(r, 1, 4)},
            (
                "In Conway's Game of Life on an unbounded grid, starting with live cells {cells}, how many cells are alive after {g} generations?",
            ),
            "from collections import Counter\nlive = set({cells})\nfor _ in range({g}):\n    n = Counter((x + dx, y + dy) for x, y in live for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy)\n    live = {{c for c, k in n.items() if k == 3 or (k == 2 and c in live)}}\nprint(len(live))",
        ),
        F(
            "fibonacci-like",
            "sequences",
            lambda r: {"a": ri(r, 1, 9), "b": ri(r, 1, 9), "n": ri(r, 5, 30)},
            ("A sequence starts {a}, {b} and each term is the sum of the two before it. What is term number {n}?",),
            "x, y = {a}, {b}\nfor _ in range({n} - 2):\n    x, y = y, x + y\nprint(y if {n} > 1 else x)",
        ),
        F(
            "triangular",
            "sequences",
            lambda r: {"n": ri(r, 5, 500)},
            ("What is the {n}th triangular number?",),
            "print({n} * ({n} + 1) // 2)",
        ),
        F(
            "arith-series",
            "sequences",
            lambda r: {"a": ri(r, -10, 20), "d": ri(r, 1, 9), "n": ri(r, 5, 100)},
            ("An arithmetic sequence starts at {a} with step {d}. What is the sum of its first {n} terms?",),
            "print(sum({a} + {d} * i for i in range({n})))",
        ),
    ]
    return fams + _more_families()


def _more_families() -> list[Family]:
    """The families of ``teacher_more.py`` (loaded by path: this file is run as a script and
    loaded by path itself, never imported as a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("teacher_more", Path(__file__).resolve().parent / "teacher_more.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.families(Family))


_STYLES = (
    "{q}",
    "Use Python: {q}",
    "Write code to answer this. {q}",
    "{q} Show your work in code.",
    "Please answer: {q}",
)


def _render(family: Family, r: random.Random) -> tuple[str, str]:
    params = family.params(r)
    params.update({f"w{k}": _num_word(v) for k, v in params.items() if isinstance(v, int)})
    ask = r.choice(family.asks).format(**params)
    style = r.choice(_STYLES)
    return style.format(q=ask), family.code.format(**params)


def run(code: str) -> str:
    """What the reference code prints (it runs here, in-process: this file's own code)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<reference>", "exec"), {})  # noqa: S102 - our own reference solutions
    return out.getvalue().strip()


_NAMES_BY_KIND = {
    "number": ["a", "b", "c", "x", "y", "z", "p", "q", "m", "k"],
    "text": ["s", "text", "word", "t", "u"],
    "sequence": ["xs", "ys", "values", "items", "data"],
}


def _given(node: ast.expr, query: str) -> str | None:
    """The kind of a literal the code copied from the query ("number", "text",
    "sequence"), or None: a number of 3 or more written in the query, a string found in
    it, a list, tuple or set of literals whose every element is in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        written = re.search(rf"(?<![\w.]){re.escape(repr(node.value))}(?![\w]|\.\d)", query)
        return "number" if abs(node.value) >= 3 and written else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return "text" if len(node.value) >= 2 and node.value in query else None
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) >= 2:
        parts = [_given(e, query) or ("small" if isinstance(e, ast.Constant) else None) for e in node.elts]
        return "sequence" if all(parts) and any(p != "small" for p in parts) else None
    return None


def named_givens(query: str, code: str) -> str | None:
    """A second solution to a task: its reference code with the data copied from the query
    (numbers, strings, lists) first bound to names, then the computation on those names,
    so a model sees "take the givens, then compute" beside the one-line form. None when
    the code copies nothing from the query or the rewrite prints something else.

    Written mechanically (``ast`` finds the literals, the source is edited in place so its
    formatting stays) so every task of every family can get one, and checked by running
    it: the rewrite must print exactly what the reference prints. Strings used as keys,
    compared against or given as a fallback (``p['age']``, ``== 'push'``) are the code's
    own words, not data, and stay."""
    tree = ast.parse(code)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    found: list[tuple[ast.expr, str]] = []

    def words(node: ast.AST) -> set[int]:  # the ids of string literals that are the code's own words
        own: list[ast.AST] = []
        for n in ast.walk(node):
            if isinstance(n, ast.Subscript):
                own.append(n.slice)
            elif isinstance(n, ast.Compare):
                own += n.comparators
            elif isinstance(n, ast.IfExp):
                own += [n.body, n.orelse]
        return {id(n) for n in own if isinstance(n, ast.Constant) and isinstance(n.value, str)}

    skip = words(tree)

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.JoinedStr):  # a literal inside an f-string stays where it is
            return
        if isinstance(node, ast.expr) and id(node) not in skip and (kind := _given(node, query)) is not None:
            found.append((node, kind))
            return
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    lines = [line.encode() for line in code.splitlines()]
    names: dict[str, str] = {}  # the literal's source -> its name
    bindings: list[str] = []
    edits: list[tuple[int, int, int, str]] = []
    for node, kind in found:
        source = ast.get_source_segment(code, node)
        if source is None or node.end_lineno != node.lineno or node.end_col_offset is None:
            continue
        if source not in names:
            free = [n for n in _NAMES_BY_KIND[kind] if n not in used]
            if not free:
                continue
            names[source] = free[0]
            used.add(free[0])
            bindings.append(f"{free[0]} = {source}")
        edits.append((node.lineno - 1, node.col_offset, node.end_col_offset, names[source]))
    if not bindings:
        return None
    for row, start, end, name in sorted(edits, reverse=True):
        lines[row] = lines[row][:start] + name.encode() + lines[row][end:]
    body = [line.decode() for line in lines]
    imports = [line for line in body if line.startswith(("import ", "from "))]
    rest = [line for line in body if not line.startswith(("import ", "from "))]
    second = "\n".join([*imports, *bindings, *rest])
    try:
        return second if second != code and run(second) == run(code) else None
    except Exception:  # noqa: BLE001 - a rewrite that does not run is no solution
        return None


def build(per_family: int = 13, seed: int = 0) -> list[dict[str, str]]:
    """Every family's tasks: ``per_family`` distinct queries each, answers from their code."""
    tasks: list[dict[str, str]] = []
    for family in _families():
        r = random.Random(f"{seed}:{family.name}")
        seen: set[str] = set()
        for _ in range(per_family * 20):
            if len(seen) >= per_family:
                break
            query, code = _render(family, r)
            if query in seen:
                continue
            seen.add(query)
            tasks.append(
                {
                    "id": f"{family.name}-{len(seen)}",
                    "family": family.name,
                    "category": family.category,
                    "query": query,
                    "expected": run(code),
                    "code": code,
                }
            )
    return tasks


def holdout_split(families: list[str], share: float = 0.25, seed: str = "holdout") -> tuple[set[str], set[str]]:
    """(train families, held-out families): a family is wholly on one side, chosen by a hash
    of its name, so the split does not move when families are added."""
    held = {f for f in families if int(hashlib.sha256(f"{seed}:{f}".encode()).hexdigest(), 16) % 1000 < share * 1000}
    return set(families) - held, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=13)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tasks = build(args.per_family, args.seed)
    OUT.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    families = sorted({t["family"] for t in tasks})
    print(
        f"wrote {OUT.name}: {len(tasks)} tasks from {len(families)} families in "
        f"{len({t['category'] for t in tasks})} categories"
    )


if __name__ == "__main__":
    main()

"""Write ``compute.jsonl``: the bench's computational tasks, each with an exact answer.

Every task has a query, a paraphrase (other words, same numbers, same answer) and a
near-parameter variant (the query's wording, other numbers, another answer): a
demonstration copied blindly, or a cache hit that should have been a miss, gets the
variant wrong. The reference code is what the split protocol banks; every expected
answer is that code's output, computed here, so none is typed by hand.

    .venv/bin/python benchmarks/tasks/make_compute.py   # rewrites benchmarks/tasks/compute.jsonl
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

# (id, query, paraphrase, code) with {a}, {b}, {c} placeholders; then two parameter sets:
# the first for query and paraphrase, the second for the variant.
TEMPLATES: list[tuple[str, str, str, str, dict[str, object], dict[str, object]]] = [
    ("product", "What is {a} * {b}?", "Multiply {a} by {b}.", "print({a} * {b})", {"a": 17, "b": 23}, {"a": 17, "b": 24}),
    ("big-product", "What is {a} times {b}?", "Compute the product of {a} and {b}.", "print({a} * {b})", {"a": 1234, "b": 5678}, {"a": 4321, "b": 8765}),
    ("power", "What is {a} to the power of {b}?", "Calculate {a} raised to the {b}th power.", "print({a} ** {b})", {"a": 2, "b": 20}, {"a": 3, "b": 13}),
    ("factorial", "What is the factorial of {a}?", "Compute {a} factorial.", "import math\nprint(math.factorial({a}))", {"a": 10}, {"a": 12}),
    ("fib", "What is the {a}th Fibonacci number, with F(1) = F(2) = 1?", "Give the Fibonacci number at position {a} (the sequence starts 1, 1, 2).",
     "a, b = 1, 1\nfor _ in range({a} - 2):\n    a, b = b, a + b\nprint(b)", {"a": 20}, {"a": 25}),
    ("sum-range", "What is the sum of the integers from 1 to {a}?", "Add up every whole number from 1 through {a}.", "print(sum(range(1, {a} + 1)))", {"a": 100}, {"a": 250}),
    ("sum-squares", "What is the sum of the squares of the numbers from 1 to {a}?", "Add up n squared for n from 1 to {a}.", "print(sum(n * n for n in range(1, {a} + 1)))", {"a": 10}, {"a": 15}),
    ("sum-cubes", "What is the sum of the cubes of the numbers 1 to {a}?", "Add up n cubed for n from 1 to {a}.", "print(sum(n ** 3 for n in range(1, {a} + 1)))", {"a": 10}, {"a": 12}),
    ("sum-even", "What is the sum of all even numbers from 1 to {a}?", "Add up the even integers between 1 and {a}.", "print(sum(range(2, {a} + 1, 2)))", {"a": 200}, {"a": 300}),
    ("sum-odd", "What is the sum of all odd numbers below {a}?", "Add up the odd integers smaller than {a}.", "print(sum(range(1, {a}, 2)))", {"a": 100}, {"a": 150}),
    ("multiples", "How many multiples of {a} are there between 1 and {b}?", "Count the numbers from 1 to {b} that are divisible by {a}.", "print({b} // {a})", {"a": 7, "b": 1000}, {"a": 9, "b": 1000}),
    ("gcd", "What is the greatest common divisor of {a} and {b}?", "Find the GCD of {a} and {b}.", "import math\nprint(math.gcd({a}, {b}))", {"a": 7469, "b": 2387}, {"a": 1071, "b": 462}),
    ("lcm", "What is the least common multiple of {a}, {b} and {c}?", "Find the LCM of {a}, {b} and {c}.", "import math\nprint(math.lcm({a}, {b}, {c}))", {"a": 12, "b": 18, "c": 30}, {"a": 8, "b": 14, "c": 20}),
    ("modulo", "What is {a} modulo {b}?", "Compute the remainder of {a} divided by {b}.", "print({a} % {b})", {"a": 123456, "b": 97}, {"a": 654321, "b": 89}),
    ("int-div", "What is {a} divided by {b}, rounded down to a whole number?", "Give the integer part of {a} / {b}.", "print({a} // {b})", {"a": 98765, "b": 43}, {"a": 56789, "b": 37}),
    ("digit-sum", "What is the sum of the decimal digits of {a}**{b}?", "Add up the decimal digits of {a} to the power {b}.", "print(sum(int(d) for d in str({a} ** {b})))", {"a": 2, "b": 100}, {"a": 3, "b": 50}),
    ("digit-count", "How many digits does {a}**{b} have?", "Count the decimal digits of {a} raised to {b}.", "print(len(str({a} ** {b})))", {"a": 2, "b": 100}, {"a": 7, "b": 77}),
    ("digit-product", "What is the product of the digits of {a}?", "Multiply together the digits of {a}.", "import math\nprint(math.prod(int(d) for d in '{a}'))", {"a": 98765}, {"a": 23456}),
    ("primes-count", "How many prime numbers are there below {a}?", "Count the primes smaller than {a}.",
     "print(sum(1 for n in range(2, {a}) if all(n % d for d in range(2, int(n ** 0.5) + 1))))", {"a": 100}, {"a": 200}),
    ("primes-sum", "What is the sum of the prime numbers below {a}?", "Add up all primes less than {a}.",
     "print(sum(n for n in range(2, {a}) if all(n % d for d in range(2, int(n ** 0.5) + 1))))", {"a": 50}, {"a": 80}),
    ("largest-prime", "What is the largest prime number below {a}?", "Find the biggest prime smaller than {a}.",
     "print(max(n for n in range(2, {a}) if all(n % d for d in range(2, int(n ** 0.5) + 1))))", {"a": 500}, {"a": 700}),
    ("nth-prime", "What is the {a}th prime number?", "Give prime number number {a}, counting 2 as the first.",
     "primes = [n for n in range(2, 10000) if all(n % d for d in range(2, int(n ** 0.5) + 1))]\nprint(primes[{a} - 1])", {"a": 50}, {"a": 60}),
    ("divisors", "How many positive divisors does {a} have?", "Count the positive integers that divide {a} exactly.", "print(sum(1 for d in range(1, {a} + 1) if {a} % d == 0))", {"a": 360}, {"a": 720}),
    ("divisor-sum", "What is the sum of the positive divisors of {a}?", "Add up every positive integer that divides {a}.", "print(sum(d for d in range(1, {a} + 1) if {a} % d == 0))", {"a": 220}, {"a": 300}),
    ("binary", "What is the binary representation of {a}?", "Write {a} in base 2.", "print(bin({a})[2:])", {"a": 2024}, {"a": 1999}),
    ("hex", "What is the hexadecimal representation of {a}, in lower case?", "Convert {a} to hexadecimal (lower-case letters).", "print(hex({a})[2:])", {"a": 48879}, {"a": 51966}),
    ("from-binary", "What is the binary number {a} in decimal?", "Convert {a} from base 2 to base 10.", "print(int('{a}', 2))", {"a": "101101"}, {"a": "110011"}),
    ("bits", "How many 1 bits are in the binary form of {a}?", "Count the ones when {a} is written in binary.", "print(bin({a}).count('1'))", {"a": 1023}, {"a": 1000}),
    ("sqrt", "What is the square root of {a}, rounded to {b} decimal places?", "Give sqrt({a}) to {b} decimals.", "print(round({a} ** 0.5, {b}))", {"a": 2, "b": 6}, {"a": 3, "b": 6}),
    ("cube-root", "What is the cube root of {a}?", "Which number cubed gives {a}?", "print(round({a} ** (1 / 3)))", {"a": 29791}, {"a": 42875}),
    ("celsius", "Convert {a} degrees Fahrenheit to Celsius, rounded to 2 decimals.", "What is {a} F in Celsius, to two decimal places?", "print(round(({a} - 32) * 5 / 9, 2))", {"a": 100}, {"a": 451}),
    ("fahrenheit", "Convert {a} degrees Celsius to Fahrenheit.", "What is {a} C in Fahrenheit?", "print({a} * 9 / 5 + 32)", {"a": 37}, {"a": 25}),
    ("percent", "What is {a} percent of {b}?", "Compute {a}% of {b}.", "print({b} * {a} / 100)", {"a": 15, "b": 2480}, {"a": 35, "b": 2480}),
    ("mean", "What is the mean of {a}?", "Average the numbers {a}.", "xs = [{a}]\nprint(sum(xs) / len(xs))", {"a": "3, 8, 15, 22, 42"}, {"a": "4, 9, 16, 23, 43"}),
    ("median", "What is the median of {a}?", "Find the middle value of the numbers {a}.", "import statistics\nprint(statistics.median([{a}]))", {"a": "7, 1, 9, 3, 5, 11, 2"}, {"a": "8, 2, 10, 4, 6, 12, 3"}),
    ("max-min", "What is the difference between the largest and the smallest of {a}?", "Give the range (max minus min) of {a}.", "xs = [{a}]\nprint(max(xs) - min(xs))", {"a": "14, 3, 99, 27, 56"}, {"a": "14, 3, 88, 27, 56"}),
    ("circle", "What is the area of a circle with radius {a}, rounded to 2 decimals?", "Compute pi times {a} squared, to 2 decimal places.", "import math\nprint(round(math.pi * {a} ** 2, 2))", {"a": 3}, {"a": 7}),
    ("hypotenuse", "A right triangle has legs {a} and {b}. How long is the hypotenuse?", "Compute sqrt({a}^2 + {b}^2).", "print(({a} ** 2 + {b} ** 2) ** 0.5)", {"a": 20, "b": 21}, {"a": 12, "b": 35}),
    ("seconds-week", "How many seconds are there in {a} weeks?", "Compute the number of seconds in {a} times seven days.", "print({a} * 7 * 24 * 60 * 60)", {"a": 1}, {"a": 3}),
    ("days-between", "How many days are there from {a} to {b}?", "Count the days between the dates {a} and {b}.",
     "from datetime import date\nprint((date.fromisoformat('{b}') - date.fromisoformat('{a}')).days)", {"a": "2024-01-01", "b": "2024-12-31"}, {"a": "2023-03-15", "b": "2023-11-02"}),
    ("weekday", "On what day of the week was {a}? Answer with the English name.", "Which weekday (English name) fell on {a}?",
     "from datetime import date\nprint(date.fromisoformat('{a}').strftime('%A'))", {"a": "2000-01-01"}, {"a": "1999-12-31"}),
    ("leap-years", "How many leap years are there from {a} to {b}, inclusive?", "Count the leap years between {a} and {b}, both included.",
     "import calendar\nprint(sum(calendar.isleap(y) for y in range({a}, {b} + 1)))", {"a": 1900, "b": 2024}, {"a": 1800, "b": 2000}),
    ("reverse", "What is the string '{a}' reversed?", "Write '{a}' backwards.", "print('{a}'[::-1])", {"a": "ecoagent"}, {"a": "sandbox"}),
    ("vowels", "How many vowels (a, e, i, o, u) are in '{a}'?", "Count the letters a, e, i, o and u in '{a}'.", "print(sum(c in 'aeiou' for c in '{a}'))", {"a": "supercalifragilisticexpialidocious"}, {"a": "onomatopoeia"}),
    ("length", "How many characters long is '{a}'?", "Give the length of the string '{a}'.", "print(len('{a}'))", {"a": "supercalifragilisticexpialidocious"}, {"a": "pneumonoultramicroscopic"}),
    ("nonspace", "How many non-space characters are in '{a}'?", "Count the characters of '{a}' that are not spaces.", "print(len('{a}'.replace(' ', '')))", {"a": "the quick brown fox jumps over the lazy dog"}, {"a": "a stitch in time saves nine"}),
    ("words", "How many words are in the sentence '{a}'?", "Count the words of '{a}'.", "print(len('{a}'.split()))", {"a": "the quick brown fox jumps over the lazy dog"}, {"a": "to be or not to be that is the question"}),
    ("upper", "What is '{a}' in upper case?", "Convert '{a}' to capital letters.", "print('{a}'.upper())", {"a": "ladder"}, {"a": "rung"}),
    ("palindrome", "Is '{a}' a palindrome? Answer True or False.", "Does '{a}' read the same backwards? Answer True or False.", "print('{a}' == '{a}'[::-1])", {"a": "racecar"}, {"a": "raceway"}),
    ("char-count", "How many times does the letter '{b}' appear in '{a}'?", "Count the '{b}' characters in '{a}'.", "print('{a}'.count('{b}'))", {"a": "mississippi", "b": "s"}, {"a": "mississippi", "b": "p"}),
    ("sorted-word", "What are the letters of '{a}' in alphabetical order, as one word?", "Sort the letters of '{a}' alphabetically and join them.", "print(''.join(sorted('{a}')))", {"a": "ecoagent"}, {"a": "sandbox"}),
    ("roman", "What is {a} in Roman numerals?", "Write the number {a} as a Roman numeral.",
     "vals = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), (90, 'XC'), (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]\n"
     "n, out = {a}, ''\nfor v, s in vals:\n    while n >= v:\n        out += s\n        n -= v\nprint(out)", {"a": 1994}, {"a": 2024}),
    ("collatz", "How many steps does the Collatz sequence of {a} take to reach 1?", "Starting at {a}, how many halve-or-3n+1 steps until you reach 1?",
     "n, steps = {a}, 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n    steps += 1\nprint(steps)", {"a": 27}, {"a": 97}),
    ("triangular", "What is the {a}th triangular number?", "Compute {a} times {a} plus one, halved.", "print({a} * ({a} + 1) // 2)", {"a": 50}, {"a": 75}),
    ("perfect-squares", "How many perfect squares are there from 1 to {a}?", "Count the square numbers between 1 and {a}, inclusive.", "import math\nprint(math.isqrt({a}))", {"a": 1000}, {"a": 5000}),
    ("compound", "What is {a} dollars after {b} years at {c}% interest compounded yearly, rounded to cents?",
     "Grow {a} by {c}% a year for {b} years, compounding yearly; round to 2 decimals.", "print(round({a} * (1 + {c} / 100) ** {b}, 2))", {"a": 1000, "b": 10, "c": 5}, {"a": 1000, "b": 10, "c": 7}),
    ("combinations", "How many ways are there to choose {b} items from {a}?", "Compute {a} choose {b}.", "import math\nprint(math.comb({a}, {b}))", {"a": 20, "b": 5}, {"a": 20, "b": 6}),
    ("permutations", "How many ways can {a} people stand in a line?", "How many orderings of {a} distinct people are there?", "import math\nprint(math.factorial({a}))", {"a": 8}, {"a": 9}),
    ("trailing-zeros", "How many trailing zeros does {a}! have?", "Count the zeros at the end of {a} factorial.", "import math\ns = str(math.factorial({a}))\nprint(len(s) - len(s.rstrip('0')))", {"a": 100}, {"a": 60}),
    ("average-speed", "A car travels {a} km in {b} hours. What is its average speed in km/h?", "Divide {a} km by {b} hours: what speed is that in km per hour?", "print({a} / {b})", {"a": 360, "b": 4}, {"a": 390, "b": 4}),
    ("minutes", "How many minutes are there in {a} days?", "Convert {a} days to minutes.", "print({a} * 24 * 60)", {"a": 3}, {"a": 5}),
    ("sum-list", "What is the sum of {a}?", "Add the numbers {a}.", "print(sum([{a}]))", {"a": "13, 29, 47, 61, 88"}, {"a": "13, 29, 47, 61, 89"}),
    ("max-list", "What is the largest number among {a}?", "Find the maximum of {a}.", "print(max([{a}]))", {"a": "48, 17, 93, 64, 2"}, {"a": "48, 17, 39, 64, 2"}),
    ("abs-diff", "What is the absolute difference between {a} and {b}?", "How far apart are {a} and {b} on the number line?", "print(abs({a} - {b}))", {"a": 1729, "b": 4104}, {"a": 1729, "b": 3104}),
    ("sum-digits-range", "What is the sum of all digits of the numbers from 1 to {a}?", "Add up every decimal digit written when counting from 1 to {a}.",
     "print(sum(int(d) for n in range(1, {a} + 1) for d in str(n)))", {"a": 100}, {"a": 1000}),
    ("armstrong", "How many three-digit numbers equal the sum of the cubes of their digits?", "Count the 3-digit Armstrong (narcissistic) numbers.",
     "print(sum(1 for n in range(100, 1000) if n == sum(int(d) ** 3 for d in str(n))))", {}, {}),
    ("pythagorean", "How many Pythagorean triples (a < b < c) have c at most {a}?", "Count integer right triangles with legs a < b and hypotenuse c <= {a}.",
     "print(sum(1 for a in range(1, {a}) for b in range(a + 1, {a}) for c in range(b + 1, {a} + 1) if a * a + b * b == c * c))", {"a": 30}, {"a": 50}),
    ("geometric", "What is the sum of the first {a} powers of 2, starting at 2**0?", "Add 1 + 2 + 4 + ... for {a} terms.", "print(sum(2 ** i for i in range({a})))", {"a": 16}, {"a": 20}),
    ("harmonic", "What is the sum 1 + 1/2 + ... + 1/{a}, rounded to 4 decimals?", "Give the {a}th harmonic number to 4 decimal places.", "print(round(sum(1 / n for n in range(1, {a} + 1)), 4))", {"a": 10}, {"a": 20}),
    ("cylinder", "What is the volume of a cylinder with radius {a} and height {b}, rounded to 2 decimals?", "Compute pi r^2 h for r = {a} and h = {b}, to 2 decimals.",
     "import math\nprint(round(math.pi * {a} ** 2 * {b}, 2))", {"a": 3, "b": 10}, {"a": 4, "b": 10}),
    ("bmi", "What is the body mass index of someone who weighs {a} kg and is {b} m tall, rounded to 1 decimal?", "Compute {a} / {b}^2 rounded to one decimal place.",
     "print(round({a} / {b} ** 2, 1))", {"a": 70, "b": 1.75}, {"a": 80, "b": 1.75}),
    ("seconds-hms", "How many seconds are {a} hours, {b} minutes and {c} seconds?", "Convert {a}h {b}m {c}s to seconds.", "print({a} * 3600 + {b} * 60 + {c})", {"a": 2, "b": 15, "c": 30}, {"a": 3, "b": 15, "c": 30}),
    ("square", "What is {a} squared?", "Multiply {a} by itself.", "print({a} ** 2)", {"a": 123}, {"a": 321}),
    ("subtract", "What is {a} minus {b}?", "Subtract {b} from {a}.", "print({a} - {b})", {"a": 10000, "b": 3721}, {"a": 10000, "b": 2721}),
    ("add", "What is {a} plus {b}?", "Add {a} and {b}.", "print({a} + {b})", {"a": 45678, "b": 98765}, {"a": 45678, "b": 88765}),
    ("average-3", "What is the average of {a}, {b} and {c}?", "Take the mean of {a}, {b} and {c}.", "print(({a} + {b} + {c}) / 3)", {"a": 10, "b": 20, "c": 60}, {"a": 10, "b": 20, "c": 90}),
    ("count-a", "How many times does the word '{b}' appear in '{a}'?", "Count the occurrences of the word '{b}' in '{a}'.", "print('{a}'.split().count('{b}'))",
     {"a": "the cat and the dog and the bird", "b": "the"}, {"a": "the cat and the dog and the bird", "b": "and"}),
    ("title", "What is '{a}' in title case?", "Capitalize the first letter of each word of '{a}'.", "print('{a}'.title())", {"a": "model ladder for cheap agents"}, {"a": "solution bank for cheap agents"}),
    ("anagram", "Are '{a}' and '{b}' anagrams of each other? Answer True or False.", "Do '{a}' and '{b}' use exactly the same letters? Answer True or False.",
     "print(sorted('{a}') == sorted('{b}'))", {"a": "listen", "b": "silent"}, {"a": "listen", "b": "lentil"}),
    ("vowel-free", "What is '{a}' with every vowel removed?", "Delete the letters a, e, i, o, u from '{a}'.", "print(''.join(c for c in '{a}' if c not in 'aeiou'))", {"a": "ecoassistant"}, {"a": "demonstration"}),
    ("ascii-sum", "What is the sum of the ASCII codes of the characters of '{a}'?", "Add up ord(c) for every character c of '{a}'.", "print(sum(ord(c) for c in '{a}'))", {"a": "ladder"}, {"a": "rungs"}),
    ("even-count", "How many even numbers are in the list {a}?", "Count the even values among {a}.", "print(sum(1 for x in [{a}] if x % 2 == 0))", {"a": "3, 8, 12, 7, 10, 5, 4"}, {"a": "3, 8, 13, 7, 11, 5, 4"}),
    ("product-list", "What is the product of {a}?", "Multiply together {a}.", "import math\nprint(math.prod([{a}]))", {"a": "3, 5, 7, 11"}, {"a": "3, 5, 7, 13"}),
    ("sphere", "What is the volume of a sphere of radius {a}, rounded to 2 decimals?", "Compute 4/3 pi r^3 for r = {a}, to 2 decimal places.", "import math\nprint(round(4 / 3 * math.pi * {a} ** 3, 2))", {"a": 3}, {"a": 5}),
    ("km-miles", "How many miles are {a} kilometres, rounded to 2 decimals (1 mile = 1.609344 km)?", "Convert {a} km to miles to two decimals, using 1.609344 km per mile.",
     "print(round({a} / 1.609344, 2))", {"a": 42.195}, {"a": 21.0975}),
    ("seconds-year", "How many seconds are there in a non-leap year?", "Count the seconds in 365 days.", "print(365 * 24 * 60 * 60)", {}, {}),
    ("gcd-3", "What is the greatest common divisor of {a}, {b} and {c}?", "Find the GCD of {a}, {b} and {c}.", "import math\nprint(math.gcd({a}, {b}, {c}))", {"a": 84, "b": 126, "c": 210}, {"a": 96, "b": 144, "c": 240}),
    ("base-3", "What is {a} written in base 3?", "Convert {a} to ternary.", "n, out = {a}, ''\nwhile n:\n    out = str(n % 3) + out\n    n //= 3\nprint(out)", {"a": 100}, {"a": 200}),
    ("sum-multiples", "What is the sum of all numbers below {a} that are multiples of 3 or 5?", "Add up every natural number under {a} divisible by 3 or by 5.",
     "print(sum(n for n in range({a}) if n % 3 == 0 or n % 5 == 0))", {"a": 1000}, {"a": 500}),
    ("squares-list", "What are the first {a} square numbers, starting at 1? Answer as a Python list.", "List 1, 4, 9, ... up to the {a}th square, as a Python list.",
     "print([n * n for n in range(1, {a} + 1)])", {"a": 10}, {"a": 8}),
    ("primes-list", "What are the prime numbers below {a}? Answer as a Python list.", "List every prime smaller than {a} as a Python list.",
     "print([n for n in range(2, {a}) if all(n % d for d in range(2, int(n ** 0.5) + 1))])", {"a": 30}, {"a": 40}),
    ("fib-list", "What are the first {a} Fibonacci numbers, starting 1, 1? Answer as a Python list.", "List the first {a} terms of 1, 1, 2, 3, 5, ... as a Python list.",
     "xs = [1, 1]\nwhile len(xs) < {a}:\n    xs.append(xs[-1] + xs[-2])\nprint(xs[:{a}])", {"a": 10}, {"a": 12}),
    ("sorted-list", "What is the list {a} sorted in ascending order?", "Sort {a} from smallest to largest.", "print(sorted([{a}]))", {"a": "5, 3, 9, 1, 7"}, {"a": "6, 3, 9, 2, 7"}),
    ("unique-count", "How many distinct values are in {a}?", "Count the different numbers in {a}.", "print(len(set([{a}])))", {"a": "1, 2, 2, 3, 3, 3, 4"}, {"a": "1, 2, 2, 3, 3, 3, 4, 5"}),
    ("day-of-year", "What day of the year is {a} (January 1 is day 1)?", "Give the ordinal day number of {a} within its year.",
     "from datetime import date\nprint(date.fromisoformat('{a}').timetuple().tm_yday)", {"a": "2024-03-01"}, {"a": "2023-03-01"}),
    ("age-days", "How many days old is someone born on {a} on {b}?", "Count the days from {a} to {b}.",
     "from datetime import date\nprint((date.fromisoformat('{b}') - date.fromisoformat('{a}')).days)", {"a": "1990-06-15", "b": "2024-06-15"}, {"a": "1985-06-15", "b": "2024-06-15"}),
    ("std", "What is the population standard deviation of {a}, rounded to 3 decimals?", "Compute pstdev of {a} to 3 decimal places.",
     "import statistics\nprint(round(statistics.pstdev([{a}]), 3))", {"a": "2, 4, 4, 4, 5, 5, 7, 9"}, {"a": "2, 4, 4, 4, 5, 5, 7, 10"}),
    ("perimeter", "What is the perimeter of a rectangle {a} by {b}?", "Add up the four sides of a {a} x {b} rectangle.", "print(2 * ({a} + {b}))", {"a": 13, "b": 29}, {"a": 13, "b": 31}),
    ("interest-simple", "What is the simple interest on {a} dollars at {b}% per year for {c} years?", "Compute {a} * {b}% * {c} years of simple interest.",
     "print({a} * {b} / 100 * {c})", {"a": 2500, "b": 4, "c": 3}, {"a": 2500, "b": 6, "c": 3}),
    ("dozen", "How many dozens are in {a} eggs, and how many eggs are left over? Answer as 'D R'.", "Split {a} eggs into dozens: give dozens and remainder as 'D R'.",
     "print({a} // 12, {a} % 12)", {"a": 150}, {"a": 175}),
    ("clock", "What time is it {a} minutes after 09:15, in HH:MM (24-hour)?", "Add {a} minutes to 09:15 and give HH:MM on a 24-hour clock.",
     "t = 9 * 60 + 15 + {a}\nprint(f'{{t // 60 % 24:02d}}:{{t % 60:02d}}')", {"a": 200}, {"a": 500}),
    ("bin-add", "What is the sum of the binary numbers {a} and {b}, written in binary?", "Add {a} and {b} in base 2 and answer in base 2.",
     "print(bin(int('{a}', 2) + int('{b}', 2))[2:])", {"a": "1011", "b": "1101"}, {"a": "1011", "b": "1110"}),
    ("count-primes-range", "How many primes are there between {a} and {b}?", "Count the prime numbers from {a} to {b}.",
     "print(sum(1 for n in range({a}, {b} + 1) if n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))))", {"a": 100, "b": 200}, {"a": 200, "b": 300}),
]


def run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<reference>", "exec"), {})  # noqa: S102 - our own reference solutions
    return out.getvalue().strip()


def main() -> None:
    rows = []
    for task_id, query, paraphrase, code, params, variant in TEMPLATES:
        filled = code.format(**params)
        row = {"id": task_id, "query": query.format(**params), "paraphrase": paraphrase.format(**params),
               "code": filled, "expected": run(filled)}  # fmt: skip
        if variant:
            variant_code = code.format(**variant)
            row["variant"] = query.format(**variant)
            row["variant_expected"] = run(variant_code)
            assert row["variant_expected"] != row["expected"], f"{task_id}: the variant must change the answer"
        rows.append(row)
    assert len({r["id"] for r in rows}) == len(rows), "task ids must be unique"
    path = Path(__file__).with_name("compute.jsonl")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} tasks ({sum('variant' in r for r in rows)} with a variant) to {path}")


if __name__ == "__main__":
    main()

"""Lookup tables for record corruption: keyboards, OCR look-alikes, spellings, nicknames, abbreviations."""

from __future__ import annotations

import re

# QWERTY rows; a typo hits a key next to the intended one (same row or the rows above and below).
_ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _keyboard_neighbours() -> dict[str, str]:
    # Each row sits half a key right of the one above: above are columns c and c+1, below c-1 and c.
    neighbours: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for c, ch in enumerate(row):
            near = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)]
            neighbours[ch] = "".join(
                _ROWS[r2][c2] for r2, c2 in near if 0 <= r2 < len(_ROWS) and 0 <= c2 < len(_ROWS[r2])
            )
    return neighbours


KEYBOARD_NEIGHBOURS = _keyboard_neighbours()

# What a scanner misreads (both directions). Multi-letter ones ("rn" read as "m") come first.
OCR_CONFUSIONS = [
    ("rn", "m"),
    ("m", "rn"),
    ("cl", "d"),
    ("vv", "w"),
    ("li", "h"),
    ("O", "0"),
    ("0", "O"),
    ("o", "0"),
    ("l", "1"),
    ("1", "l"),
    ("I", "1"),
    ("S", "5"),
    ("5", "S"),
    ("B", "8"),
    ("8", "B"),
    ("Z", "2"),
    ("2", "Z"),
    ("G", "6"),
    ("6", "G"),
    ("g", "9"),
    ("e", "c"),
    ("u", "v"),
]

# Spellings that sound alike (on lower-case text); `$` anchors a rule to the end of a word.
PHONETIC_RULES = [
    (re.compile(pattern), replacement)
    for pattern, replacement in [
        ("ph", "f"),
        ("f", "ph"),
        ("ck", "k"),
        ("ie\\b", "y"),
        ("y\\b", "ie"),
        ("ey\\b", "y"),
        ("ei", "ie"),
        ("ie", "ei"),
        ("c(?=[aou])", "k"),
        ("k", "c"),
        ("z", "s"),
        ("s(?=[aeiou])", "z"),
        ("ll", "l"),
        ("tt", "t"),
        ("nn", "n"),
        ("ss", "s"),
        ("mm", "m"),
        ("rr", "r"),
        ("th", "t"),
        ("sch", "sh"),
        ("sh", "sch"),
        ("w", "v"),
        ("v", "w"),
        ("ai", "ay"),
        ("ay", "ai"),
        ("ou", "u"),
        ("ee", "ea"),
        ("ea", "ee"),
        ("x", "ks"),
        ("qu", "kw"),
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("ß", "ss"),
        ("é", "e"),
        ("è", "e"),
        ("ñ", "n"),
        ("ç", "c"),
    ]
]

# Formal name -> familiar forms. Lookups run both ways (a "Bill" may be written "William").
_NICKNAME_GROUPS = {
    "William": ["Bill", "Will", "Billy", "Liam"],
    "Robert": ["Bob", "Rob", "Bobby", "Bert"],
    "Elizabeth": ["Liz", "Beth", "Lizzie", "Betty", "Eliza"],
    "Katherine": ["Kate", "Kathy", "Katie"],
    "Catherine": ["Cathy", "Kate", "Cat"],
    "Kathleen": ["Kathy", "Kate"],
    "Margaret": ["Peggy", "Maggie", "Meg"],
    "James": ["Jim", "Jimmy", "Jamie"],
    "John": ["Jack", "Johnny"],
    "Michael": ["Mike", "Mick", "Mikey"],
    "Richard": ["Rick", "Dick", "Richie"],
    "Thomas": ["Tom", "Tommy"],
    "Christopher": ["Chris", "Kit"],
    "Christine": ["Chris", "Chrissy", "Tina"],
    "Joseph": ["Joe", "Joey"],
    "Daniel": ["Dan", "Danny"],
    "Matthew": ["Matt"],
    "Anthony": ["Tony"],
    "Andrew": ["Andy", "Drew"],
    "Steven": ["Steve"],
    "Stephen": ["Steve"],
    "Edward": ["Ed", "Eddie", "Ted", "Ned"],
    "Charles": ["Charlie", "Chuck"],
    "David": ["Dave", "Davey"],
    "Benjamin": ["Ben", "Benny"],
    "Nicholas": ["Nick", "Nicky"],
    "Alexander": ["Alex", "Sandy", "Xander"],
    "Samuel": ["Sam", "Sammy"],
    "Patricia": ["Pat", "Patty", "Trish"],
    "Jennifer": ["Jen", "Jenny"],
    "Rebecca": ["Becky", "Becca"],
    "Susan": ["Sue", "Suzy"],
    "Deborah": ["Debbie", "Deb"],
    "Victoria": ["Vicky", "Tori"],
    "Jessica": ["Jess", "Jessie"],
    "Samantha": ["Sam", "Sammy"],
    "Alexandra": ["Alex", "Sasha"],
    "Johannes": ["Hans", "Jo"],
    "Wilhelm": ["Willi", "Wim"],
    "Friedrich": ["Fritz"],
    "Giuseppe": ["Peppe", "Beppe"],
    "Francesco": ["Franco", "Cesco"],
    "Francisco": ["Paco", "Pancho"],
    "José": ["Pepe"],
    "Dolores": ["Lola"],
    "Guillaume": ["Guy"],
}


def _nickname_lookup() -> dict[str, tuple[str, ...]]:
    lookup: dict[str, set[str]] = {}
    for formal, familiar in _NICKNAME_GROUPS.items():
        lookup.setdefault(formal, set()).update(familiar)
        for nick in familiar:
            lookup.setdefault(nick, set()).add(formal)
    return {name: tuple(sorted(others)) for name, others in sorted(lookup.items())}


NICKNAMES = _nickname_lookup()

# Address words and their short forms (either may be written); matched as whole words.
ABBREVIATIONS = {
    "Street": "St",
    "Road": "Rd",
    "Avenue": "Ave",
    "Lane": "Ln",
    "Drive": "Dr",
    "Court": "Ct",
    "Place": "Pl",
    "Crescent": "Cres",
    "Terrace": "Tce",
    "Boulevard": "Blvd",
    "Square": "Sq",
    "Close": "Cl",
    "Grove": "Gr",
    "Mount": "Mt",
    "Highway": "Hwy",
    "Piazza": "P.za",
    "Avenida": "Av.",
    "Calle": "C/",
    "ulica": "ul.",
    "plac": "pl.",
    "Rua": "R.",
    "boulevard": "bd",
    "avenue": "av.",
}
# German, Dutch and Swedish streets end in a word part: "Hauptstraße" <-> "Hauptstr.".
SUFFIX_ABBREVIATIONS = {"straße": "str.", "strasse": "str.", "straat": "str.", "gatan": "g.", "vägen": "v."}

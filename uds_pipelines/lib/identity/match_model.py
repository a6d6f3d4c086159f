"""The Splink model behind probabilistic matching: comparisons, blocking rules, training rules, fallback weights.

Every attribute has fuzzy levels built from Splink's templates (`NameComparison`,
`DateOfBirthComparison`, `DamerauLevenshteinAtThresholds`, Jaro-Winkler), applied to the match keys
of `sources.person_attributes_sql` (so "St"/"Street" and accents are already folded). Two levels are
ours: first and last name swapped, and day and month swapped. Term-frequency adjustments (a shared
"smith" says less than a shared "quarshie") apply to names, city and postcode when the model is
trained; on a handful of records frequencies mean nothing, so the fallback weights go without them.
"""

from __future__ import annotations

NAME_THRESHOLDS = [0.92, 0.88, 0.7]  # NameComparison's defaults
# Fallback m/u per non-null level (small inputs, or EM failed), most specific level first. Set so
# that a shared full name plus city alone, or a shared address alone, stays below a 0.99 threshold,
# while name + birth date or name + address passes; the trained model re-estimates all of them.
PRIOR_MATCH = 1e-5
#                exact  swapped jw.92  jw.88  jw.7   else
NAME_M = [0.82, 0.03, 0.08, 0.03, 0.02, 0.02]
NAME_U = [0.004, 0.0005, 0.003, 0.004, 0.05, 0.9385]
#                exact  d/m swap lev1   1 month 1 year 10 years else
DOB_M = [0.85, 0.02, 0.06, 0.01, 0.02, 0.02, 0.02]
DOB_U = [0.0003, 0.00001, 0.003, 0.003, 0.03, 0.3, 0.66369]
#                exact  lev1   lev2   else
POSTCODE_M = [0.85, 0.08, 0.02, 0.05]
POSTCODE_U = [0.001, 0.002, 0.007, 0.99]
#                exact  jw.9   jw.7   else
CITY_M = [0.88, 0.04, 0.02, 0.06]
CITY_U = [0.02, 0.005, 0.05, 0.925]
#    exact, same house numbers + close street, close street with other numbers (neutral: a
#    neighbour as likely as a typo until EM says otherwise), else
ADDRESS_M = [0.8, 0.1, 0.02, 0.08]
ADDRESS_U = [0.0005, 0.0002, 0.02, 0.9793]
# `house_numbers` (every digit run of the address key, in order) is precomputed per record: a
# regular expression per compared pair made u sampling (a million random pairs) several times slower.
SAME_NUMBERS_CLOSE_STREET = (
    "house_numbers_l = house_numbers_r AND jaro_winkler_similarity(address_line1_l, address_line1_r) >= 0.8"
)
# Damerau-Levenshtein is the slowest comparison DuckDB has; a one-edit date (ISO text, fixed length)
# differs in at most two positions, so the cheap Hamming distance gates it.
DATE_ONE_EDIT = "hamming(date_of_birth_l, date_of_birth_r) <= 2 AND damerau_levenshtein(date_of_birth_l, date_of_birth_r) <= 1"
DAY_MONTH_SWAPPED = (
    "substr(date_of_birth_l, 1, 4) = substr(date_of_birth_r, 1, 4) "
    "AND substr(date_of_birth_l, 6, 2) = substr(date_of_birth_r, 9, 2) "
    "AND substr(date_of_birth_l, 9, 2) = substr(date_of_birth_r, 6, 2)"
)
NAMES_SWAPPED = "first_name_key_l = last_name_key_r AND last_name_key_l = first_name_key_r"

# Rules that find the pairs to score. Every field is left out of several rules, so one typo (or one
# missing value) in any single field still leaves rules that find the pair; the address and
# initial-letter rules catch pairs damaged in two or three fields. None blocks on a field alone
# or on city with a whole name: those blocks grow with the square of a city's size.
BLOCKING_RULES = (
    ("first_name_key", "last_name_key"),
    ("first_name_key", "date_of_birth"),
    ("last_name_key", "date_of_birth"),
    ("date_of_birth", "postcode"),
    ("first_name_key", "postcode"),
    ("last_name_key", "postcode"),
    ("date_of_birth", "city"),
    ("postcode", "address_line1"),
    ("address_line1", "city"),
    ("first_name_key", "address_line1"),
    ("last_name_key", "address_line1"),
    ("postcode", "house_numbers"),
    ("first_name_key", "city", "substr(last_name_key, 1, 1)"),
    ("last_name_key", "city", "substr(first_name_key, 1, 1)"),
    ("substr(first_name_key, 1, 2)", "substr(last_name_key, 1, 2)", "substr(date_of_birth, 1, 4)"),
)
# first and last name typed into each other's fields
SWAPPED_NAMES_RULE = "l.first_name_key = r.last_name_key AND l.last_name_key = r.first_name_key"
# Deterministic rules for the prior (as in Splink's examples): pairs they find are near-certain matches.
PRIOR_RULES = (
    ("first_name_key", "last_name_key", "date_of_birth"),
    ("date_of_birth", "postcode", "address_line1"),
)
PRIOR_RULES_RECALL = 0.7
# EM runs once per rule; each rule's own fields cannot be estimated in its run, so two disjoint rules
# between them estimate every comparison.
EM_RULES = (("first_name_key", "last_name_key"), ("date_of_birth",))


def comparisons(cl, cll, *, trained: bool) -> list:
    """The comparisons; `trained=False` gives the fallback with fixed m/u and no term frequencies."""

    def name(col: str):
        exact = cll.ExactMatchLevel(col, term_frequency_adjustments=trained)
        levels = [cll.NullLevel(col), exact, cll.CustomLevel(NAMES_SWAPPED, label_for_charts="names swapped")]
        levels += [cll.JaroWinklerLevel(col, t) for t in NAME_THRESHOLDS] + [cll.ElseLevel()]
        return cl.CustomComparison(comparison_levels=levels, output_column_name=col)

    dob = "date_of_birth"
    dob_levels = [
        cll.NullLevel(dob),
        cll.ExactMatchLevel(dob),
        cll.CustomLevel(DAY_MONTH_SWAPPED, label_for_charts="day and month swapped"),
        cll.CustomLevel(DATE_ONE_EDIT, label_for_charts="one digit typed wrong or two swapped"),
        *(
            cll.AbsoluteDateDifferenceLevel(dob, input_is_string=True, threshold=n, metric=unit)
            for n, unit in ((1, "month"), (1, "year"), (10, "year"))
        ),
        cll.ElseLevel(),
    ]
    address = "address_line1"
    address_levels = [
        cll.NullLevel(address),
        cll.ExactMatchLevel(address),
        cll.CustomLevel(SAME_NUMBERS_CLOSE_STREET, label_for_charts="same house numbers, street JW >= 0.8"),
        # no looser level: address lines are long, so Jaro-Winkler 0.7 holds for many strangers,
        # and every Jaro-Winkler level is one more pass over a million sampled pairs
        cll.JaroWinklerLevel(address, 0.9),
        cll.ElseLevel(),
    ]
    built = [
        name("first_name_key"),
        name("last_name_key"),
        cl.CustomComparison(comparison_levels=dob_levels, output_column_name=dob),
        # Levenshtein, not Damerau (a swap of two digits lands at distance 2): five times cheaper
        cl.LevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=trained),
        cl.JaroWinklerAtThresholds("city", [0.9, 0.7]).configure(term_frequency_adjustments=trained),
        cl.CustomComparison(comparison_levels=address_levels, output_column_name=address),
    ]
    if not trained:
        fixed = [(NAME_M, NAME_U), (NAME_M, NAME_U), (DOB_M, DOB_U), (POSTCODE_M, POSTCODE_U),
                 (CITY_M, CITY_U), (ADDRESS_M, ADDRESS_U)]  # fmt: skip
        built = [
            c.configure(m_probabilities=m, u_probabilities=u) for c, (m, u) in zip(built, fixed, strict=True)
        ]
    return built


def settings(cl, cll, brl, SettingsCreator, *, trained: bool):  # noqa: N803 - Splink class passed in
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=PRIOR_MATCH,
        comparisons=comparisons(cl, cll, trained=trained),
        blocking_rules_to_generate_predictions=[brl.block_on(*rule) for rule in BLOCKING_RULES]
        + [brl.CustomRule(SWAPPED_NAMES_RULE)],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
    )

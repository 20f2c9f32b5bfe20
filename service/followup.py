"""Rule-based follow-up rewriting for multi-turn questions (no LLM).

A turn with its own topic words ("人社局在就业方面做了什么？") is a new question and is left alone.
A turn without one reuses the previous turn's (rewritten) question and filters, replacing only
what it names:

- "那人社局呢？"        department → the department mention is replaced, filters.departments set
- "2021年的呢？"        year → the year mention is replaced (read as in a first question; a year filter set before is dropped)
- "海门呢？" / "那XX区呢？" district → the place mention is replaced (text only)
- "下一步呢？"          intent → the question's ending becomes "下一步有什么打算"
- "那就业呢？"          short "那X呢" → the topic becomes X, department/year/place kept
- "有多少所幼儿园开设了托班？" (a question of its own naming no place, after "崇川区托育…") → asked of the
                           conversation's place: "崇川区有多少所幼儿园开设了托班？", the request's filters as given
- "这个提案是谁提的？" / "什么时候答复的？" / "主办单位呢？" → the record of the reply just discussed: with
                           ``lookup_answer``, restricted to the previous answer's first cited reply; without it,
                           asked with the previous turn's place and topic ("通州产教融合的答复，这个提案是谁提的？")
- "第二条具体怎么做的？" → the 2nd point of the previous answer (needs ``lookup_answer``):
                           its sentence becomes the question, restricted to its reply
                           (filters.number + date_from/date_to = its reply date)
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from index.departments import department_table
from index.tokenize import default_tokenizer
from service.counting import asks_count
from service.filters import Filters
from service.gazetteer import Gazetteer
from service.query import CN_NUMBER_RE, NOW_ASK_RE, NUMBER_RE

LookupAnswer = Callable[[str], "dict[str, Any] | None"]

YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年度?")
NO_PLACES = Gazetteer()  # without an index: only place names jieba recognises (XX区/县/市)
ORDINAL_RE = re.compile(r"第\s*([一二两三四五六七八九十\d]{1,3})\s*(?:条|点|项|个|部分)|(最后|末)\s*一\s*(?:条|点|项|个)")
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

PLAN_RE = re.compile(r"下一步|打算|计划|今后|将来|规划|准备")
EFFECT_RE = re.compile(r"成效|效果|进展|成果")
DONE_RE = re.compile(r"做了|哪些工作|什么工作|措施|举措|做法|怎么做|如何做|怎么落实|落实")
INTENT_PHRASES = {"plan": "下一步有什么打算", "effect": "取得了哪些成效", "done": "做了哪些工作"}
# the ending of a question that asks for work / plans / effects / the reply (replaced when the intent changes)
INTENT_SPAN_RE = re.compile(
    r"(?:目前|已经)?(?:都|还)?(?:做了|开展了|采取了|推进了|有)(?:哪些|什么|什么样的)(?:工作|措施|举措|做法)"
    r"|下一步(?:还)?(?:有|将)?(?:什么|哪些)?(?:打算|计划|安排|工作|举措|措施)?"
    r"|(?:取得了|有)(?:哪些|什么)(?:成效|进展|效果|成果)"
    r"|(?:是)?(?:怎么|如何)(?:答复|回复|做)的?")
# words that carry no topic in a follow-up turn
FOLLOW_RE = re.compile(
    r"^(?:那么?|还有|另外|其他|然后|再问一下|请问)|(?:呢|吗|吧|啊)$|的话|情况|怎么样|如何|具体|详细|内容|介绍|说说|展开|一下|更多"
    r"|是谁|谁|哪个部门|哪个单位|负责|什么时候|时间|这个|那个|这方面|上述|以上|刚才|前面|上面|同样|它们?|其|该|此"
    r"|做的|做了|怎么做|怎么|哪些|什么|有|方面|相关|工作|措施|举措|做法|答复|回复|的|了|在|是|和|与|及|呢")
TOPIC_FOLLOW_RE = re.compile(r"^(?:那么?|还有|那关于|关于)?\s*(.{1,16}?)\s*(?:方面)?(?:的情况|情况)?(?:呢|怎么样|如何)[？?。！!\s]*$")
STOP_TOPIC = {"一步", "下一步", "年度", "年"}
# a turn that names a field of the record alone ("主办单位呢？", "答复日期是哪天？")
FIELD_NOUN_RE = re.compile(r"^(?:那么?|还有|它的|这件的|这个的)?(主办单位|主办部门|承办单位|协办单位|协办部门|会办单位|答复日期|答复时间|"
                           r"办复日期|提出者|提出人|提案人|建议人|编号|提案号|建议号|办复类别|答复类别)")


@dataclass
class Turn:
    """What one question names, with the spans of those mentions."""

    text: str
    depts: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, canonical)
    years: list[tuple[int, int, int]] = field(default_factory=list)
    places: list[tuple[int, int, str]] = field(default_factory=list)
    ordinal: int | None = None  # 1-based; -1 = the last
    intent: str | None = None  # plan | effect | done
    topic: list[str] = field(default_factory=list)  # topic words left after removing the above
    names_reply: bool = False  # names a reply by its number (第57号提案是哪个单位答复的？): a question of its own

    @property
    def names_something(self) -> bool:
        return bool(self.depts or self.years or self.places)


def dept_spans(text: str) -> list[tuple[int, int, str]]:
    table = department_table()
    spans: list[tuple[int, int, str]] = []
    for name in table.all_names():
        if len(name) < 2:
            continue
        for m in re.finditer(re.escape(name), text):
            if any(s < m.end() and m.start() < e for s, e, _ in spans):
                continue
            spans.append((m.start(), m.end(), table.canonical_of[name]))
    return sorted(spans)


def _free(spans, s: int, e: int) -> bool:
    return not any(a < e and s < b for a, b, *_ in spans)


def place_spans(text: str, taken: list, gaz: Gazetteer | None = None) -> list[tuple[int, int, str]]:
    """Places named in `text`: those the index's letters come from (with short forms, learned from the
    signing units) and other place names (如东县, 綦江区); (start, end, full name)."""
    gaz = gaz or NO_PLACES
    out = [sp for sp in gaz.find(text) if _free(taken, sp[0], sp[1])]
    out += [sp for sp in gaz.find_unknown(text, taken + out)]
    return sorted(out)


def _cn_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if "十" in s:
        a, _, b = s.partition("十")
        return (CN_DIGITS.get(a, 1) if a else 1) * 10 + (CN_DIGITS.get(b, 0) if b else 0)
    return CN_DIGITS.get(s)


def analyse_turn(text: str, gaz: Gazetteer | None = None) -> Turn:
    t = Turn(text)
    t.depts = dept_spans(text)
    t.years = [(m.start(), m.end(), int(m.group(1))) for m in YEAR_RE.finditer(text)]
    t.places = place_spans(text, t.depts + t.years, gaz)
    t.names_reply = bool(NUMBER_RE.search(text) or CN_NUMBER_RE.search(text))
    m = ORDINAL_RE.search(text)
    if m:
        t.ordinal = -1 if m.group(2) else _cn_number(m.group(1))
    if PLAN_RE.search(text):
        t.intent = "plan"
    elif EFFECT_RE.search(text):
        t.intent = "effect"
    elif DONE_RE.search(text):
        t.intent = "done"
    # residual: remove every mention, intent and follow-up word, then tokenise what is left
    rest = list(text)
    for s, e, *_ in [*t.depts, *t.years, *t.places]:
        rest[s:e] = [" "] * (e - s)
    residual = "".join(rest)
    residual = ORDINAL_RE.sub(" ", residual)
    residual = PLAN_RE.sub(" ", EFFECT_RE.sub(" ", DONE_RE.sub(" ", INTENT_SPAN_RE.sub(" ", residual))))
    residual = re.sub(r"[，,。？?！!、；;：:\s“”\"'（）()]+", " ", residual).strip()
    prev = None
    while prev != residual:
        prev = residual
        residual = " ".join(FOLLOW_RE.sub(" ", part) for part in residual.split()).strip()
    tok = default_tokenizer()
    t.topic = [w for w in tok.tokens(residual, query=True)
               if w not in STOP_TOPIC and not w.isdigit() and not (len(w) == 1 and "\u4e00" <= w <= "\u9fff")]
    return t


PLACE_ONLY = "place"  # rewrite_turn's third value: a new question kept to the conversation's place (filters as asked)
# a turn that asks something of its own ("那苡山配了几辆消防车呢？") is not the earlier question moved to another place
OWN_ASK_RE = re.compile(r"多少|几|什么|啥|哪|怎么|为什么|为啥|吗|是否|有没有|谁")
# a question asked of every place (各地…都做了什么, 哪些地方): not kept to the conversation's place
ALL_PLACES_RE = re.compile(r"各地|各区|各县|各市|各镇|各乡镇|各个地方|哪些地方|哪几个地方|哪些区|哪些县|全国|其他地方|别的地方")
ANAPHORA_RE = re.compile(r"^(?:那|这|其|它|他们|她们|该|此|以后|今后|后来|现在|目前|还有|另外|其中|同时|然后)")


def _depends_on_context(question: str, turn: Turn) -> bool:
    """A turn with words of its own that still leans on the previous one: it names no place or department,
    and is short, opens with an anaphor (那…/以后…/其中…) or names only a year ("2023年答复里运维经费是多少？")."""
    if turn.places or turn.depts:
        return False
    body = re.sub(r"[？?。！!，,\s]", "", question)
    if ANAPHORA_RE.match(body):
        return True
    if asks_count(question):  # "2023年答复了多少件建议？": a count of the records, whatever was asked before
        return False
    return bool(turn.years) or len(body) <= 8


def is_followup(turn: Turn) -> bool:
    """No topic words of its own (or a reference to a point of the previous answer)."""
    if turn.ordinal is not None:
        return True
    return not turn.topic


# -- text surgery ---------------------------------------------------------------------------------
def _replace_spans(text: str, spans: list[tuple[int, int, Any]], new: str) -> str:
    """Replace the first span with `new`, delete the others (with a connector left dangling)."""
    out = text
    for i, (s, e, _) in enumerate(sorted(spans, reverse=True)):
        out = out[:s] + (new if i == len(spans) - 1 else "") + out[e:]
    out = re.sub(r"[、和与及]+(?=[在的，,。？?])", "", out)
    out = re.sub(r"([、和与及])[、和与及]+", r"\1", out)
    return re.sub(r"^[、和与及]+", "", out)


def _insert_after_prefix(text: str, new: str, gaz: Gazetteer | None = None) -> str:
    """Insert `new` after a leading year and place (e.g. 2023年通州|人社局在…)."""
    pos = 0
    m = YEAR_RE.match(text)
    if m:
        pos = m.end()
    for s, e, _ in place_spans(text, [], gaz):
        if s == pos:
            pos = e
            break
    return text[:pos] + new + text[pos:]


def _with_intent(text: str, intent: str) -> str:
    phrase = INTENT_PHRASES[intent]
    spans = list(INTENT_SPAN_RE.finditer(text))
    if spans:
        m = spans[-1]
        return text[:m.start()] + phrase + text[m.end():]
    body = text.rstrip("？?。！! ")
    return f"{body}{phrase}？"


def _moved_with_words(question: str, turn: Turn, ctx_text: str, gaz: Gazetteer | None) -> str:
    """The previous question asked of the turn's place, with the turn's own words put right after it."""
    out = list(question)
    for s, e, _ in turn.places:
        out[s:e] = [" "] * (e - s)
    words = TOPIC_FOLLOW_RE.match("".join(out).strip())
    own = re.sub(r"^(?:那么?|还有|那关于|关于)?\s*的?|\s+", "", words.group(1) if words else "")
    new = "、".join(dict.fromkeys(question[s:e] for s, e, _ in turn.places))
    old = place_spans(ctx_text, dept_spans(ctx_text), gaz)
    if old:
        start = min(s for s, _, _ in old)
        text = _replace_spans(ctx_text, old, new)
        return text[:start + len(new)] + own + text[start + len(new):]
    return _insert_after_prefix(ctx_text, new + own, gaz)


def _topic_of(text: str, gaz: Gazetteer | None = None) -> str:
    """The previous question without its year, place, department and intent (for "那X呢")."""
    t = analyse_turn(text, gaz)
    out = list(text)
    for s, e, *_ in [*t.depts, *t.years, *t.places]:
        out[s:e] = [""] * (e - s)
    body = INTENT_SPAN_RE.sub("", "".join(out))
    return body.strip("？?。！! ，,")


def _prefix(text: str, gaz: Gazetteer | None = None) -> str:
    """Year, place and department mentions of `text`, in order, as one prefix."""
    t = analyse_turn(text, gaz)
    parts = sorted([*t.years, *t.places, *t.depts])
    return "".join(text[s:e] for s, e, _ in parts)


# -- filters --------------------------------------------------------------------------------------
def _merge_filters(prev: Filters | None, request: Filters | None) -> Filters | None:
    """The previous turn's effective filters, overridden by the fields this request sets."""
    if prev is None:
        return request
    if request is None or request.is_empty():
        return prev
    return dataclasses.replace(prev, **{k: v for k, v in request.__dict__.items() if v})


def _apply(filters: Filters | None, turn: Turn) -> Filters | None:
    if not turn.names_something:
        return filters
    f = filters or Filters()
    upd: dict[str, Any] = {"number": None, "date_from": None, "date_to": None}  # a reply pinned by "第N条" is released
    if turn.depts:
        upd["departments"] = list(dict.fromkeys(c for _, _, c in turn.depts))
    # a year named ("那2023年呢？") goes into the rewritten question, where it is read as in a first question: the
    # figure for that year, which the next year's letter states as a rule; a filter would keep to 2023's letters
    if turn.years:  # ... and a year filter of the turn before no longer holds
        upd["year_from"] = upd["year_to"] = None
    return dataclasses.replace(f, **upd)


def filters_from_dict(d: dict[str, Any] | None) -> Filters | None:
    if not d:
        return None
    known = {f.name for f in dataclasses.fields(Filters)}
    return Filters(**{k: v for k, v in d.items() if k in known})


# -- the rewriter ---------------------------------------------------------------------------------
def _pinned(filters: Filters | None, citation: dict[str, Any] | None) -> Filters:
    """`filters` restricted to the reply of a citation of the previous answer (its number and date)."""
    f = filters or Filters()
    if citation is None:
        return f
    pin: dict[str, Any] = {"departments": [], "year_from": None, "year_to": None, "proposer": None,
                           "number": citation.get("number") or None,
                           "date_from": citation.get("reply_date") or None, "date_to": citation.get("reply_date") or None}
    if not pin["number"] and citation.get("proposer"):
        pin["proposer"] = citation["proposer"]
    return dataclasses.replace(f, **pin)


def _record_followup(question: str, ctx_text: str, ctx_filters: Filters | None, prev_answer: dict[str, Any] | None,
                     turn: Turn, gaz: Gazetteer | None) -> tuple[str, Filters | None, bool] | None:
    """"这个提案是谁提的？" / "什么时候答复的？" / "主办单位呢？" after an answer: the record of the reply that answer
    was about. With the stored answer, its first cited reply is pinned; without it, the question is asked with the
    previous turn's place and topic, so that the same reply comes first. None when the turn is not such a question."""
    from service.query import analyse

    body = question.strip()
    noun = FIELD_NOUN_RE.match(body)
    q = analyse(body if not noun else f"{noun.group(1)}是什么？这件答复", gaz)
    if not q.fields or q.numbers or q.proposers or turn.places or turn.depts or turn.ordinal is not None:
        return None
    if q.topic and not noun:  # "谁来养护农村公路？" names a topic of its own: a question about the work
        return None
    ask = body if not noun else f"{noun.group(1)}是什么？"
    ctx = analyse_turn(ctx_text, gaz)
    keep = [*ctx.years, *ctx.places, *ctx.depts]
    prefix = "".join(ctx_text[s:e] for s, e, _ in sorted(keep))
    topic = analyse(_topic_of(ctx_text, gaz), gaz).topic_phrase
    text = f"{prefix}{topic}的答复，{ask}" if prefix or topic else ask
    cites = (prev_answer or {}).get("citations") or []
    if cites:
        return text, _pinned(ctx_filters, cites[0]), True
    return text, ctx_filters, True


def rewrite_turn(question: str, ctx_text: str, ctx_filters: Filters | None,
                 prev_answer: dict[str, Any] | None = None, gaz: Gazetteer | None = None) -> tuple[str, Filters | None, bool | str]:
    """Rewrite one turn against a context; returns (text, filters, was_a_followup), the last PLACE_ONLY for a
    new question kept to the conversation's place."""
    turn = analyse_turn(question, gaz)
    if turn.names_reply:  # the number says which reply: nothing of the conversation is carried into it
        return question, None, False
    if (record := _record_followup(question, ctx_text, ctx_filters, prev_answer, turn, gaz)) is not None:
        return record
    if turn.topic and turn.ordinal is None:
        m = TOPIC_FOLLOW_RE.match(question.strip())
        if (m and turn.places and not turn.depts and not turn.years and len(turn.topic) <= 3
                and question.strip().rstrip("？?。！! ").endswith("呢") and not OWN_ASK_RE.search(question)):
            # "那菱湾县城老街呢？" after "蘅塘区老城小巷停车新增了多少车位？": the same ask, of another place and the
            # part of the topic it names; the earlier topic words stay, so the letter on that topic still ranks
            return _moved_with_words(question, turn, ctx_text, gaz), _apply(ctx_filters, turn), True
        if m and len(turn.topic) <= 3 and not turn.names_something:
            topic = m.group(1).strip()
            prefix = _prefix(ctx_text, gaz)
            old_topic = _topic_of(ctx_text, gaz)
            intent = next((k for k, v in INTENT_PHRASES.items() if v in ctx_text), None) or "done"
            if old_topic.startswith("在") or not prefix:
                return f"{prefix}在{topic}方面{INTENT_PHRASES[intent]}？", ctx_filters, True
            return f"{prefix}{topic}{INTENT_PHRASES[intent]}？", ctx_filters, True
        if _depends_on_context(question, turn):
            # "停多久以内不要钱？" after "崇川路边停车怎么收费？": the new detail, asked of the same place and topic
            ctx = analyse_turn(ctx_text, gaz)
            # a year named, or "后来/现在…了吗" (how it turned out: a later letter), replaces the earlier turn's year
            later = bool(turn.years) or bool(NOW_ASK_RE.search(question))
            keep = [*([] if later else ctx.years), *ctx.places, *ctx.depts]
            prefix = "".join(ctx_text[s:e] for s, e, _ in sorted(keep))
            from service.query import analyse

            old_topic = analyse(_topic_of(ctx_text, gaz), gaz).topic_phrase
            if prefix or old_topic:
                return f"{prefix}{old_topic}，{question.strip()}", _apply(ctx_filters, turn), True
        if not turn.names_something and not ALL_PLACES_RE.search(question):
            # a question of its own that names no place, after one that did ("有多少所幼儿园开设了托班？" after
            # "崇川区托育服务情况怎么样？"): asked of the same place; the rewritten question shows it
            ctx = analyse_turn(ctx_text, gaz)
            if ctx.places:
                where = "、".join(dict.fromkeys(ctx_text[s:e] for s, e, _ in ctx.places))
                return f"{where}{question.strip()}", None, PLACE_ONLY
        return question, None, False

    if turn.ordinal is not None and prev_answer:
        points = prev_answer.get("points") or []
        k = turn.ordinal
        if points and (k == -1 or 1 <= k <= len(points)):
            p = points[k - 1] if k > 0 else points[-1]
            cites = {c["n"]: c for c in prev_answer.get("citations") or []}
            c = next((cites[n] for n in p.get("citations", []) if n in cites), None)
            text = f"“{p['text'].strip()}”具体是怎么做的？"
            return text, _pinned(ctx_filters, c), True

    text = ctx_text
    if turn.years:
        ys = sorted({y for _, _, y in turn.years})
        new = "、".join(f"{y}年" for y in ys)
        old = list(YEAR_RE.finditer(text))
        text = _replace_spans(text, [(m.start(), m.end(), None) for m in old], new) if old else new + text
    if turn.places:
        new = "、".join(dict.fromkeys(question[s:e] for s, e, _ in turn.places))
        old = place_spans(text, dept_spans(text), gaz)
        text = _replace_spans(text, old, new) if old else _insert_after_prefix(text, new, gaz)
    if turn.depts:
        new = "、".join(dict.fromkeys(question[s:e] for s, e, _ in turn.depts))
        old = dept_spans(text)
        text = _replace_spans(text, old, new) if old else _insert_after_prefix(text, new, gaz)
    if turn.intent and not (turn.intent == "done" and turn.names_something):
        text = _with_intent(text, turn.intent)
    return text, _apply(ctx_filters, turn), True


def retrieval_query(text: str, filters: Filters | None) -> str:
    """`text` without the department and year mentions that `filters` already enforce.

    A rewritten follow-up names them for the reader ("2021年通州人社局在…"), but as query words they only
    lower the lexical coverage of the replies the filters already restrict to."""
    if filters is None:
        return text
    table = department_table()
    wanted = {table.canonical(d) for d in filters.departments}
    drop: list[tuple[int, int, Any]] = [sp for sp in dept_spans(text) if sp[2] in wanted]
    if filters.year_from and filters.year_from == filters.year_to:
        drop += [(m.start(), m.end(), None) for m in YEAR_RE.finditer(text) if int(m.group(1)) == filters.year_from]
    if not drop:
        return text
    out = text
    for s, e, _ in sorted(drop, reverse=True):
        out = out[:s] + out[e:]
    out = re.sub(r"[、和与及]+(?=[在的，,。？?])", "", out)
    out = re.sub(r"^[、和与及]+", "", out).strip()
    return out if re.search(r"[\u4e00-\u9fff\w]", out) else text


def rewrite(question: str, history: list[dict], filters: Filters | None,
            lookup_answer: LookupAnswer | None = None, gazetteer: Gazetteer | None = None) -> tuple[str, Filters | None]:
    """The question to retrieve with, and the filters to apply, given the conversation so far.

    history: earlier turns, oldest first, each {"question": ..., "answer_id": optional}.
    lookup_answer: answer_id -> the stored answer (with "rewritten_question", "filters", "points",
    "citations"); with it, earlier turns are taken as they were answered and "第N条" works.
    """
    if not history:
        return question, filters
    ctx_text: str | None = None
    ctx_filters: Filters | None = filters
    prev_answer: dict[str, Any] | None = None
    for h in history:
        q = str(h.get("question") or "").strip()
        stored = lookup_answer(h["answer_id"]) if lookup_answer and h.get("answer_id") else None
        if stored is not None:
            ctx_text = stored.get("rewritten_question") or stored.get("question") or q
            ctx_filters = _merge_filters(filters_from_dict(stored.get("filters")), filters)
            prev_answer = stored
            continue
        prev_answer = None
        if not q:
            continue
        if ctx_text is None:
            ctx_text, ctx_filters = q, filters
            continue
        t, f, follow = rewrite_turn(q, ctx_text, ctx_filters, gaz=gazetteer)
        ctx_text, ctx_filters = (t, f) if follow and follow != PLACE_ONLY else (t, filters) if follow else (q, filters)
    if ctx_text is None:
        return question, filters
    text, f, follow = rewrite_turn(question, ctx_text, ctx_filters, prev_answer, gazetteer)
    if not follow:
        return question, filters
    if follow == PLACE_ONLY:
        return text, filters
    if f is not None and f.is_empty():
        f = None
    return text, f

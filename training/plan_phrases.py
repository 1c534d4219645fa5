"""Phrase tables the planner's training questions are composed from (training.plan_templates puts them together).

Syntax: `(a|b|)` picks one alternative at random (an empty one drops the part); `{film}`, `{film2}`, `{person}`,
`{tag}` are entity slots; `{genre}`, `{language}`, `{year}`, `{n}` are value slots; `{F}` is a film noun phrase
(one film, or a film set such as "the films starring {person}"), `{X}` a person or people noun phrase;
`{is}`/`{was}`/`{it}` agree with {F}. Each inner list is one template GROUP: near-variants of one phrasing, so that a
group held out for test leaves no near-copy in training. WikiMovies/MetaQA dev questions shaped some phrasings
(dev only; never a test file, never imdb_top_1000.csv).
"""
from __future__ import annotations

# ---------------------------------------------------------------- film → value heads ("who directed {F}")
HEADS: dict[str, list[list[str]]] = {
    "director": [
        ["who directed {F}", "who directed {F} (again|)", "director of {F}?"],
        ["who (is|was) the director of {F}", "who (is|was) listed as (the |)director (of|for) {F}"],
        ["{F} {was} directed by (whom|who)", "who {was} {F} directed by"],
        ["(name|tell me) the director(s|) of {F}", "(give me|list) the director(s|) of {F}"],
        ["which (filmmaker|director|person) (made|directed) {F}", "what director (made|helmed) {F}"],
        ["the director of {F} (is|was) who", "{F}'s director (is|was) who"],
        ["who (helmed|made|was behind) {F}", "who was behind the camera (on|for) {F}", "tell me who directed {F}"],
        ["director (of|for) {F}", "{F} director(s|)"],
        ["(do you know|can you tell me|i want to know) who directed {F}", "any idea who directed {F}"],
        ["who('s| is) the filmmaker behind {F}", "which director (is|was) responsible for {F}"],
    ],
    "writer": [
        ["who wrote {F}", "who wrote the (screenplay|script|story) (for|of) {F}"],
        ["who (is|was) the (writer|screenwriter|author) (of|for) {F}",
         "who (is|was) credited (as|with) writ(er|ing) (of |)(on|for|) {F}"],
        ["{F} {was} written by (whom|who)", "who {was} {F} written by"],
        ["(name|tell me|list) the (writers|screenwriters|writer) of {F}",
         "(give me|what are) the writer(s|) (of|for) {F}"],
        ["which (screenwriter|writer|person) wrote {F}", "what screenwriter (penned|scripted) {F}"],
        ["the (writer|screenwriter) of {F} (is|was) who", "{F}'s (writer|screenwriter) (is|was) who"],
        ["who (penned|scripted) {F}", "who came up with the script (for|of) {F}"],
        ["(writer|screenwriter|screenplay) (of|for) {F}", "{F} writer(s|)", "give me the writer(s|) of {F}"],
        ["(do you know|can you tell me) who wrote {F}", "i want to know who wrote {F}"],
        ["who is the creator of the (film |)script (of|for) {F}", "who in the world wrote {F}"],
    ],
    "actor": [
        ["who (starred|stars|acted|acts) in {F}", "who (starred|acted) in {F} (as well|)"],
        ["who (is|was|are|were) in the cast of {F}", "who (is|was) cast in {F}"],
        ["(which|what) actors (appear|appeared|star|starred) in {F}", "what actors (are|were) in {F}"],
        ["who (are|were) the (actors|stars|cast members) (of|in) {F}", "who (are|were) the main actors (of|in) {F}"],
        ["{F} starred (which actors|who|whom)", "{F} (features|featured) (which|what) actors"],
        ["(list|name|tell me) the (cast|actors|stars) of {F}", "(give me|show me) the cast (of|for) {F}"],
        ["who (appears|appeared|plays|played) in {F}", "who (was|is) featured in {F}", "name the stars of {F}"],
        ["(cast|actors|stars) (of|in) {F}", "{F} cast", "tell me the (stars|actors) of {F}"],
        ["(do you know|can you tell me) who (starred|acted) in {F}", "i want to know who (starred|acted) in {F}"],
        ["who are the people (acting|starring) in {F}", "which people (acted|played) in {F}"],
    ],
    "genre": [
        ["what genre(s|) (is|are|was|were) {F}", "what genre(s|) (is|are) {F} in"],
        ["what (kind|type|sort) of (film|movie|films|movies) (is|are|was|were) {F}",
         "what (kinds|types) of (films|movies) are {F}"],
        ["which genre(s|) (does|do) {F} (belong to|fall under|fit in)", "what genre (does|do) {F} fall under"],
        ["what is the genre of {F}", "what are the genres of {F}", "how would you classify {F} by genre"],
        ["{F} (is|are|were|was) (a film|films|movies) of what genre", "{F} (was|were) in which genre(s|)"],
        ["(genre|genres) of {F}", "{F} genre(s|)", "how (is|are) {F} classified"],
        ["how would you classify {F}", "how (is|are) {F} classified by genre"],
        ["(tell me|name|list) the genre(s|) of {F}", "(give me|what's) the genre (of|for) {F}"],
    ],
    "tag": [
        ["what words describe {F}", "(which|what) words describe (the |)(film|movie|) {F}"],
        ["describe {F} in a few words", "can you describe {F} in a few words"],
        ["what topics (is|are) {F} about", "which topics (is|are) {F} about"],
        ["what (keywords|tags) are (associated with|attached to) {F}", "which tags describe {F}"],
        ["can you give a few words describing {F}", "give me a few words describing what {F} (is|are) about"],
        ["what terms are applicable to {F}", "what are some words that describe {F}"],
        ["(tags|keywords) (of|for) {F}", "{F} (tags|keywords)"],
        ["what themes (does|do) {F} (deal with|cover|touch on)", "what are the themes of {F}"],
    ],
    "language": [
        ["what language(s|) (is|are|was|were) {F} in", "what language(s|) (is|was) {F}"],
        ["what is the (primary|main|original) language (of|in) {F}", "what's the main language of {F}"],
        ["what language is spoken in {F}", "what is the language spoken in {F}"],
        ["in (which|what) language(s|) (was|were) {F} (made|filmed|shot)", "which language (was|were) {F} made in"],
        ["{F} (is|are|was|were) in what language", "{F} (was|were) filmed in which language"],
        ["language(s|) of {F}", "{F} language"],
        ["what languages are spoken in {F}", "what are the languages (spoken |used |)in {F}"],
        ["(tell me|name) the language of {F}", "(do you know|can you tell me) what language {F} (is|was) in"],
    ],
    "year": [
        ["when (was|were) {F} released", "when did {F} (come out|release|premiere)"],
        ["what year (was|were|did) {F} (released|come out|made)", "in what year (was|were) {F} released"],
        ["what (is|was|are|were) the release (year|date|years|dates) of {F}", "release (year|date) of {F}"],
        ["{F} (came|come) out in (which|what) year(s|)", "{F} (was|were) released in which year(s|)"],
        ["{F}, when (was|were) (it|they) released", "the (film|movie) {F}, when was it released"],
        ["which year(s|) (did|was|were) {F} (come out|released)", "what year(s|) (is|are) {F} from"],
        ["how old (is|are) {F}", "when (was|were) {F} made"],
        ["(year|release date) {F}", "{F} (release|) year"],
        ["(do you know|can you tell me) when {F} came out", "i want to know when {F} was released"],
    ],
    "rating": [
        ["what (is|was) the rating of {F}", "what (is|was) the (imdb |average |)rating (of|for) {F}"],
        ["how (is|was|are|were) {F} rated", "how well (is|was) {F} rated"],
        ["what did (people|audiences|critics) think of {F}", "what do people think of {F}"],
        ["is {F} considered good", "{F}, is it any good"],
        ["how would people rate {F}", "what rating would people give {F}"],
        ["what score did {F} get", "what (is|was) {F}'s (score|rating)"],
        ["(rating|score) (of|for) {F}", "{F} rating"],
        ["how good (is|was) {F}", "is {F} any good"],
    ],
    "votes": [
        ["how popular (is|was) {F}", "how popular of a (movie|film) (is|was) {F}"],
        ["how (famous|well known|well-known) (is|was) {F}", "how famous of a film (is|was) {F}"],
        ["what (is|was) the popularity (rating |)of {F}", "what was the popularity rating of {F}"],
        ["how many votes (does|did) {F} (have|get)", "how many (people|users) voted (for|on) {F}"],
        ["what is the vote count (of|for) {F}", "number of votes (for|of) {F}"],
        ["(is|was) {F} popular", "is {F} a well known (film|movie)"],
    ],
    "runtime": [
        ["how long (is|was) {F}", "how long (is|was) the (film|movie) {F}"],
        ["what (is|was) the (running time|runtime|run time|length) of {F}", "what's the runtime of {F}"],
        ["how many minutes (is|was|long is) {F}", "how many minutes long is {F}"],
        ["how long does {F} (run|last|take)", "how long (is|was) {F} in minutes"],
        ["{F} (runs|lasts) (for |)how (long|many minutes)", "{F} is how many minutes long"],
        ["(runtime|running time|length) (of|for) {F}", "{F} (runtime|length|duration)"],
        ["what is the duration of {F}", "how many hours (is|was) {F}"],
    ],
}

# ---------------------------------------------------------------- film sets and people noun phrases
FILMSET: dict[str, list[str]] = {  # films reached back from {X} through the relation (plural noun phrases)
    "director": ["the (films|movies) directed by {X}", "the (films|movies) {X} directed", "{X}'s (films|movies)",
                 "{X} (films|movies)",
                 "{X} directed (films|movies)", "the (films|movies) (that|which) {X} directed",
                 "(films|movies) helmed by {X}", "the (films|movies) by director {X}"],
    "writer": ["the (films|movies) written by {X}", "the (films|movies) {X} wrote", "{X} written (films|movies)",
               "the (films|movies) (penned|scripted) by {X}",
               "the (films|movies) {X} wrote the (screenplay|script) for",
               "the (films|movies) (that|which) {X} wrote", "the (films|movies) by (writer|screenwriter) {X}"],
    "actor": ["the (films|movies) starring {X}", "the (films|movies) {X} (acted|starred|appeared) in",
              "(films|movies) featuring {X}", "the (films|movies) (acted|starred) by {X}",
              "{X} (starred|acted) (films|movies)",
              "the (films|movies) with {X} in (them|the cast)",
              "the (films|movies) (that|which) {X} (starred|acted) in"],
    "tag": ["the (films|movies) about {X}", "the (films|movies) tagged (with |){X}",
            "the (films|movies) described (by|as|with) {X}", "the (films|movies) (that deal|dealing) with {X}"],
}
PEOPLE_OF: dict[str, list[str]] = {  # the people of a film through the relation ("the director of {F}")
    "director": ["the director of {F}", "{F}'s director", "the person who directed {F}", "whoever directed {F}",
                 "the filmmaker behind {F}", "the (same |)director (as|of) {F}"],
    "writer": ["the writer of {F}", "{F}'s (writer|screenwriter)", "the person who wrote {F}", "whoever wrote {F}",
               "the screenwriter of {F}", "the (same |)writer (as|of) {F}"],
    "actor": ["the (actors|stars|cast) of {F}", "{F}'s (actors|stars|cast)", "the people who (acted|starred) in {F}",
              "the actors in {F}", "whoever (starred|acted) in {F}", "the (same |)actors (as|of) {F}"],
}
# film sets in words that name the shared people of a film ("the films that share actors with {film}")
SHARED_SET: dict[str, list[str]] = {
    "director": ["the (films|movies) that share (the same |a |)director with {film}",
                 "the (other |)(films|movies) by the director of {film}",
                 "the (films|movies) with the same director as {film}"],
    "writer": ["the (films|movies) that share (the same |a |)(writer|screenwriter) with {film}",
               "the (other |)(films|movies) by the writer of {film}",
               "the (films|movies) with the same (writer|screenwriter) as {film}"],
    "actor": ["the (films|movies) that share (the same |)actors with {film}",
              "the (other |)(films|movies) with the actors of {film}",
              "the (films|movies) with the same (actors|cast|stars) as {film}"],
}

# ---------------------------------------------------------------- film-set lists ("what films did {X} direct")
LIST_VERBS: dict[str, list[list[str]]] = {
    "director": [
        ["what (films|movies) did {X} direct", "which (films|movies) did {X} direct"],
        ["what did {X} direct", "what has {X} directed"],
        ["{X} directed which (films|movies)", "{X} was the director (of|on) which (films|movies)"],
        ["which (films|movies) (was|is) {X} the director (of|for|on)", "what was {X} the director of"],
        ["(can you name|what is) a (film|movie) directed by {X}", "name a (film|movie) {X} directed"],
        ["(films|movies) directed by {X}", "(list|show me|give me) the (films|movies) directed by {X}"],
        ["what (films|movies) (has|have) {X} (directed|made)", "which (films|movies) has {X} made"],
    ],
    "writer": [
        ["what (films|movies) did {X} write", "which (films|movies) did {X} write (the story for|)"],
        ["what did {X} write", "what has {X} written"],
        ["{X} wrote which (films|movies)", "{X} is the writer of which (films|movies)"],
        ["which (films|movies) (was|is) {X} (the|a) writer (of|on)", "what movies was {X} a writer on"],
        ["what is a (film|movie) written by {X}", "name a (film|movie) {X} wrote"],
        ["(films|movies) written by {X}", "(list|show me) the (films|movies) written by {X}"],
        ["which screenplays did {X} write", "{X} is credited as (a |)writer on which (films|movies)"],
    ],
    "actor": [
        ["what (films|movies) did {X} (act|star|appear) in", "which (films|movies) did {X} (act|star|appear) in"],
        ["what does {X} (act|star|appear) in", "what has {X} (acted|starred|appeared) in"],
        ["{X} (acted|starred|appeared) in which (films|movies)", "{X} appears in which (films|movies)"],
        ["which (films|movies) (was|is) {X} (in|an actor in)", "what movies was {X} an actor in"],
        ["in (which|what) (films|movies) (does|did) {X} (act|appear|star)", "what films feature {X}"],
        ["(films|movies) (starring|with|featuring) {X}", "(list|show me) the (films|movies) starring {X}"],
        ["what has {X} been in", "where (have|has) {X} (acted|appeared)"],
    ],
    "tag": [
        ["which (films|movies) are about {X}", "what (films|movies) are about {X}"],
        ["(which|what) (films|movies) can be described (by|with|as) {X}", "what movies can be described by {X}"],
        ["(films|movies) about {X}", "(list|name) some (films|movies) about {X}"],
        ["which (films|movies) are tagged (with |){X}", "what (films|movies) have the tag {X}"],
        ["what (films|movies) deal with the (topic|theme) (of |){X}", "(films|movies) on the topic of {X}"],
    ],
}
LIST_HEADS = [  # a film set named by a noun phrase ({S} = "the films directed by ..."); bare phrases in every group
    ["what are {S}", "{S}"], ["(list|name) {S}", "{S} please"], ["(show me|give me) {S}", "{S}, please"],
    ["(i'm|i am) looking for {S}", "(can you|could you) list {S}"], ["what (films|movies) are {S}", "tell me {S}"],
    ["which are {S}", "{S} (in the catalog|you know)"],
]
SAME_AS: dict[str, list[list[str]]] = {  # > P < P from a film: "what else did the director of {film} direct"
    "director": [
        ["what else did the director of {film} direct", "what else has the director of {film} (made|directed)"],
        ["which (films|movies) share the same director (of|as|with) {film}",
         "which (films|movies) have the same director as {film}"],
        ["the director of {film} also directed which (films|movies)",
         "the director of {film} is also the director of which (films|movies)"],
        ["what are the (films|movies) that (are directed by|have) the same director (of|as) {film}",
         "what (other |)(films|movies) did {film}'s director make"],
        ["(other |more |)(films|movies) by the director of {film}", "(films|movies) from the same director as {film}"],
    ],
    "writer": [
        ["what else did the (writer|screenwriter) of {film} write", "what else has the writer of {film} written"],
        ["which (films|movies) share the same (writer|screenwriter) (of|as|with) {film}",
         "which (films|movies) have the same writer as {film}"],
        ["the (writer|screenwriter) of {film} also wrote which (films|movies)",
         "the screenwriter of {film} also wrote what"],
        ["what are the (films|movies) that have the same (screenwriter|writer) (of|as) {film}",
         "what (other |)(films|movies) did {film}'s writer write"],
        ["(other |more |)(films|movies) by the (writer|screenwriter) of {film}",
         "(films|movies) written by the same person as {film}"],
    ],
    "actor": [
        ["what else did the (actors|stars) of {film} (star|act|appear) in", "what else has the cast of {film} been in"],
        ["which (films|movies) share the same actor(s|) (of|as|with) {film}",
         "which (films|movies) have the same actors as {film}"],
        ["the actor(s|) of {film} also starred in which (films|movies)",
         "the (stars|actors) of {film} also appeared in what"],
        ["what are the (films|movies) that (share|have) actors with {film}",
         "what (other |)(films|movies) did {film}'s (cast|stars) (make|appear in)"],
        ["(other |more |)(films|movies) with the (actors|cast) of {film}",
         "(films|movies) featuring the same actors as {film}"],
    ],
}
CO_WORK: dict[str, list[list[str]]] = {  # < P > P from a person: "who did {person} co-star with"
    "director": [["who co-directed (films|movies) with {person}", "who directed (films|movies) together with {person}"],
                 ["the director {person} co-directed (films|movies) with who",
                  "{person} shared directing credits with whom"]],
    "writer": [["who wrote (films|movies) together with {person}", "who co-wrote (films|movies) with {person}"],
               ["the (screenwriter|writer) {person} (co-wrote|wrote films together) with who",
                "{person} shared writing credits with whom"]],
    "actor": [["who (co-starred|acted together|starred together) with {person}",
               "who did {person} (co-star|act|star) with"],
              ["the actor {person} co-starred with who", "{person} appeared in films with which actors"],
              ["who are {person}'s co-stars", "name the co-stars of {person}"]],
}

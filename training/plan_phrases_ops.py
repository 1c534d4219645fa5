"""Phrase tables for counts, superlatives, comparisons, checks, constraint-only lists and the passage-answered
operations (identify, describe, recommend, off_topic). Same syntax as training.plan_phrases; `{S}` is a bare film
set ("films directed by {person}", "horror films from the 1990s"), `{ADJ}` a superlative, `{N}` a field noun."""
from __future__ import annotations

# ---------------------------------------------------------------- count
COUNT_SET = [  # {S}: a bare film set
    ["how many {S} are there", "how many {S} (are|exist)"],
    ["how many {S} (are in|does) the (catalog|database|collection)( have|)", "how many {S} do you (have|know)"],
    ["(count|number of) {S}", "(count|tell me the number of) {S}"],
    ["what is the (number|count|total number) of {S}", "what's the total of {S}"],
    ["(give me|tell me) (the number of|how many) {S}", "i want to know how many {S} there are"],
]
COUNT_VERBS: dict[str, list[list[str]]] = {  # count < P, with {X} a person or people phrase
    "director": [["how many (films|movies) did {X} direct", "how many (films|movies) (has|have) {X} directed"],
                 ["{X} directed how many (films|movies)", "in total, how many (films|movies) did {X} (make|direct)"]],
    "writer": [["how many (films|movies) did {X} write", "how many (films|movies) (has|have) {X} written"],
               ["{X} wrote how many (films|movies)", "on how many (films|movies) (was|is) {X} (a|the) writer"]],
    "actor": [["how many (films|movies) did {X} (act|star|appear) in",
               "in how many (films|movies) (has|did) {X} (acted|starred|appear)"],
              ["{X} (starred|acted|appeared) in how many (films|movies)",
               "how many (films|movies) (has|have) {X} been in"]],
    "tag": [["how many (films|movies) are about {X}", "how many (films|movies) are tagged {X}"],
            ["how many (films|movies) can be described (by|as) {X}", "number of (films|movies) about {X}"]],
}
COUNT_PEOPLE = {  # count > P from a film
    "actor": [["how many (actors|people) (are in|star in|appear in|acted in) {film}", "how big is the cast of {film}",
               "the number of (actors|cast members) in {film}"],
              ["how many (actors|cast members|stars) does {film} have", "number of actors in {film}"],
              ["{film} has how many (actors|cast members)", "count the (actors|cast) of {film}"],
              ["how many people (starred|played) in {film}", "what is the size of the cast of {film}"]],
    "director": [["how many directors did {film} have", "how many (people|filmmakers) directed {film}"],
                 ["number of directors (of|on) {film}", "how many directors (worked on|made) {film}"],
                 ["{film} had how many directors", "count the directors of {film}"],
                 ["by how many (people|directors) was {film} directed", "what is the number of directors of {film}"]],
    "writer": [["how many writers did {film} have", "how many (people|screenwriters) wrote {film}"],
               ["number of (writers|screenwriters) of {film}", "how many (writers|screenwriters) worked on {film}"],
               ["{film} had how many writers", "count the (writers|screenwriters) of {film}"],
               ["by how many people was {film} written", "what is the number of writers of {film}"]],
}

# ---------------------------------------------------------------- superlatives: (op, field) → adjectives, verbs
SUPER_ADJ: dict[tuple[str, str], list[str]] = {
    ("argmax", "runtime"): ["longest", "lengthiest", "longest-running"],
    ("argmin", "runtime"): ["shortest", "briefest", "shortest-running"],
    ("argmax", "rating"): ["best", "(best|highest)(-| )rated", "top-rated", "most (acclaimed|highly rated)"],
    ("argmin", "rating"): ["worst", "(worst|lowest)(-| )rated", "most poorly rated", "least (acclaimed|liked)"],
    ("argmax", "votes"): ["most popular", "most (voted|well-known|famous)", "most-voted", "best-known"],
    ("argmin", "votes"): ["least popular", "least (voted|known|famous)", "most obscure", "least-voted"],
    ("argmax", "year"): ["newest", "most recent", "latest", "most recently released"],
    ("argmin", "year"): ["oldest", "earliest", "first", "least recent"],
}
SUPER_NOUN: dict[tuple[str, str], list[str]] = {  # "the film with the {HN}"
    ("argmax", "runtime"): ["longest (runtime|running time)", "(highest|largest) (runtime|running time)"],
    ("argmin", "runtime"): ["shortest (runtime|running time)", "(lowest|smallest) (runtime|running time)"],
    ("argmax", "rating"): ["(highest|best|top) (rating|score)", "(highest|best) imdb rating"],
    ("argmin", "rating"): ["(lowest|worst) (rating|score)", "(lowest|worst) imdb rating"],
    ("argmax", "votes"): ["most votes", "(highest|largest) (vote count|number of votes|popularity)"],
    ("argmin", "votes"): ["fewest votes", "(lowest|smallest) (vote count|number of votes|popularity)"],
    ("argmax", "year"): ["(latest|most recent) release (date|year)", "(newest|latest) release"],
    ("argmin", "year"): ["(earliest|oldest) release (date|year)", "(earliest|oldest) release"],
}
SUPER_VERB: dict[tuple[str, str], list[str]] = {  # "which film {V}"
    ("argmax", "runtime"): ["(has|had) the longest (runtime|running time|run time)", "runs (the |)longest",
                            "lasts the longest"],
    ("argmin", "runtime"): ["(has|had) the shortest (runtime|running time|run time)", "runs (the |)shortest",
                            "is the quickest to watch"],
    ("argmax", "rating"): ["(has|had|got) the (highest|best|top) rating", "is rated (the |)highest",
                           "scored (the |)highest"],
    ("argmin", "rating"): ["(has|had|got) the (lowest|worst) rating", "is rated (the |)lowest", "scored (the |)lowest"],
    ("argmax", "votes"): ["(has|had|got) the most votes",
                          "(has|had) the (highest|largest) (vote count|number of votes)", "is the most popular"],
    ("argmin", "votes"): ["(has|had|got) the fewest votes",
                          "(has|had) the (lowest|smallest) (vote count|number of votes)", "is the least popular"],
    ("argmax", "year"): ["came out (last|most recently)", "was released (last|most recently)", "is the newest"],
    ("argmin", "year"): ["came out first", "was released (first|earliest)", "is the oldest"],
}
SUPER_ALL = [  # from every film; {C} constraint phrase, {G} genre/language adjective (either may be empty)
    ["which {G}(film|movie){C} has the {HN}", "the {G}(film|movie){C} with the {HN}"],
    ["what is the {ADJ} {G}(film|movie){C}", "what's the {ADJ} {G}(film|movie){C}"],
    ["which {G}(film|movie){C} is the {ADJ}", "which is the {ADJ} {G}(film|movie){C}"],
    ["the {ADJ} {G}(film|movie){C}", "{ADJ} {G}(film|movie){C}"],
    ["(name|tell me|show me) the {ADJ} {G}(film|movie){C}", "(find|give me) the {ADJ} {G}(film|movie){C}"],
    ["which {G}(film|movie){C} {V}", "what {G}(film|movie){C} {V}"],
    ["of all the {G}(films|movies){C}, which (one |)is the {ADJ}", "among {G}(films|movies){C}, which is the {ADJ}"],
    ["what is the {ADJ} {G}(film|movie) in the (catalog|database|collection){C}",
     "the catalog's {ADJ} {G}(film|movie){C}"],
]
SUPER_PERSON = [  # from a person's films; {PV}: "directed by", "starring", "written by"
    ["which (film|movie) {PV} {X} has the {HN}", "the (film|movie) {PV} {X} with the {HN}"],
    ["what is {X}'s {ADJ} (film|movie)", "what is the {ADJ} of the (films|movies) {PV} {X}"],
    ["what is the {ADJ} (film|movie) {PV} {X}", "the {ADJ} (film|movie) {PV} {X}"],
    ["which of {X}'s (films|movies) is the {ADJ}", "of the (films|movies) {PV} {X}, which (one |)is the {ADJ}"],
    ["which (film|movie) {PV} {X} {V}", "what (film|movie) {PV} {X} {V}"],
    ["(name|tell me|show me) the {ADJ} (film|movie) {PV} {X}",
     "among (the |)(films|movies) {PV} {X}, (name|find) the {ADJ}"],
]
PERSON_VERB = {"director": "(directed by|by|from director)", "writer": "(written by|penned by)",
               "actor": "(starring|with|featuring)"}
TOP_ALL = [  # top-n from every film; {n} the count
    ["what are the {n} {ADJ} {G}(films|movies){C}", "which are the {n} {ADJ} {G}(films|movies){C}"],
    ["(list|name|show me|give me) the {n} {ADJ} {G}(films|movies){C}",
     "(list|name) {n} of the {ADJ} {G}(films|movies){C}"],
    ["top {n} {G}(films|movies){C} by {N}", "the top {n} {G}(films|movies){C} (by|ranked by) {N}"],
    ["the {n} {G}(films|movies){C} with the (highest|most|largest) {N}",
     "{n} {G}(films|movies){C} with the (highest|most) {N}"],
    ["{n} {ADJ} {G}(films|movies){C}", "(i want|give me) {n} {ADJ} {G}(films|movies){C}"],
    ["what are the top {n} {ADJ} {G}(films|movies){C}", "top {n} {ADJ} {G}(films|movies){C}"],
]
TOP_PERSON = [
    ["what are {X}'s {n} {ADJ} (films|movies)", "what are the {n} {ADJ} (films|movies) {PV} {X}"],
    ["the {n} {ADJ} (films|movies) {PV} {X}", "which are the {n} {ADJ} (films|movies) {PV} {X}"],
    ["top {n} (films|movies) {PV} {X} by {N}", "(list|name) the top {n} (films|movies) {PV} {X} by {N}"],
    ["(give me|show me) {n} {ADJ} (films|movies) {PV} {X}", "{n} {ADJ} (films|movies) {PV} {X}"],
    ["the (films|movies) {PV} {X} with the (highest|most|largest) {N}, top {n}",
     "rank the (films|movies) {PV} {X} by {N}"],
    ["{X}'s top {n} (films|movies) by {N}", "the {n} (films|movies) {PV} {X} with the (highest|best) {N}"],
]
FIELD_NOUN = {"runtime": "(runtime|running time|length)", "rating": "(rating|score|imdb rating)",
              "votes": "(votes|popularity|number of votes)", "year": "(release year|release date|recency)"}

# ---------------------------------------------------------------- comparisons of two named films (argmax/argmin)
# per (op, field): {CMP} a comparative adjective, {CV} a verb phrase ("came out later"), {DV} its base form
COMP: dict[tuple[str, str], dict[str, list[str]]] = {
    ("argmax", "runtime"): {"CMP": ["longer", "lengthier", "longer-running"],
                            "CV": ["runs longer", "lasts longer", "has the longer (runtime|running time)"],
                            "DV": ["run longer", "last longer", "have a longer (runtime|running time)"]},
    ("argmin", "runtime"): {"CMP": ["shorter", "briefer", "quicker to watch"],
                            "CV": ["runs shorter", "is over sooner", "has the shorter (runtime|running time)"],
                            "DV": ["run shorter", "end sooner", "have a shorter (runtime|running time)"]},
    ("argmax", "rating"): {"CMP": ["better rated", "rated higher", "higher rated", "better"],
                           "CV": ["has the (higher|better) rating", "got the better (rating|score)", "scored higher"],
                           "DV": ["have a (higher|better) rating", "score higher", "get a better rating"]},
    ("argmin", "rating"): {"CMP": ["worse rated", "rated lower", "lower rated", "worse"],
                           "CV": ["has the (lower|worse) rating", "got the worse (rating|score)", "scored lower"],
                           "DV": ["have a (lower|worse) rating", "score lower", "get a worse rating"]},
    ("argmax", "votes"): {"CMP": ["more popular", "more voted", "better known", "more famous"],
                          "CV": ["has more votes", "got more votes", "has the (higher|larger) vote count"],
                          "DV": ["have more votes", "get more votes", "have a higher vote count"]},
    ("argmin", "votes"): {"CMP": ["less popular", "less voted", "less known", "more obscure"],
                          "CV": ["has fewer votes", "got fewer votes", "has the (lower|smaller) vote count"],
                          "DV": ["have fewer votes", "get fewer votes", "have a lower vote count"]},
    ("argmax", "year"): {"CMP": ["newer", "more recent", "later"],
                         "CV": ["came out later", "was released (later|more recently)",
                                "is the (newer|more recent) one"],
                         "DV": ["come out later", "get released later", "come out after"]},
    ("argmin", "year"): {"CMP": ["older", "earlier", "less recent"],
                         "CV": ["came out (first|earlier)", "was released (first|earlier)", "is the older one"],
                         "DV": ["come out earlier", "get released earlier", "come out before"]},
}
COMPARATIVE = [
    ["which is {CMP}, {film} or {film2}", "which (film|movie|one) is {CMP}: {film} or {film2}"],
    ["is {film} {CMP} than {film2}", "{film}: is it {CMP} than {film2}"],
    ["{film} or {film2}, which (one |)is {CMP}", "{film} or {film2}: which is {CMP}"],
    ["which of {film} and {film2} is {CMP}", "of {film} and {film2}, which (one |)is {CMP}"],
    ["between {film} and {film2}, which (one |)is {CMP}", "{film} (vs|versus) {film2}: which is {CMP}"],
    ["which {CV}, {film} or {film2}", "which (film|movie|one) {CV}: {film} or {film2}"],
    ["{film} or {film2}, which (one |){CV}", "of {film} and {film2}, which {CV}"],
    ["(does|did) {film} {DV} than {film2}", "(does|did) {film} {DV} than {film2} does"],
    ["tell me which {CV}, {film} or {film2}", "i want to know which is {CMP}: {film} or {film2}"],
]

# ---------------------------------------------------------------- yes/no checks: {film} and the value asked about
CHECK: dict[str, list[list[str]]] = {
    "director": [["did {person} direct {film}", "was {film} directed by {person}"],
                 ["is {person} the director of {film}", "was {person} the director of {film}"],
                 ["{film}: directed by {person}(,| -) (right|yes or no)", "is it true that {person} directed {film}"]],
    "writer": [["did {person} write {film}", "was {film} written by {person}"],
               ["is {person} (the|a) writer of {film}", "did {person} write the (screenplay|script) (for|of) {film}"],
               ["{film}: written by {person}(,| -) (right|yes or no)", "is it true that {person} wrote {film}"]],
    "actor": [["did {person} (star|act|appear) in {film}", "was {person} in {film}"],
              ["is {person} in the cast of {film}", "does {film} (star|feature) {person}"],
              ["{film}: starring {person}(,| -) (right|yes or no)",
               "is it true that {person} (starred|acted) in {film}"]],
    "genre": [["is {film} a {genre} (film|movie)", "was {film} a {genre} (film|movie)"],
              ["does {film} belong to the {genre} genre", "is {film} classified as {genre}"],
              ["would you call {film} a {genre} (film|movie)", "is the genre of {film} {genre}"]],
    "language": [["is {film} in {language}", "was {film} made in {language}"],
                 ["is {film} a {language}(-language|) (film|movie)", "is the language of {film} {language}"],
                 ["is {language} spoken in {film}", "was {film} filmed in {language}"]],
    "year": [["was {film} released in {year}", "did {film} come out in {year}"],
             ["is {film} from {year}", "was {film} made in {year}"],
             ["is {year} the release year of {film}", "did {film} premiere in {year}"]],
    "tag": [["is {film} about {tag}", "is {film} tagged {tag}"],
            ["can {film} be described (as|by) {tag}", "does {film} deal with {tag}"],
            ["is {tag} one of the (tags|topics) of {film}", "is {tag} a theme of {film}"]],
}

CHECK_STATEMENT: dict[str, list[str]] = {  # {ST} of CHECK_WRAP
    "director": ["{person} directed {film}", "{film} was directed by {person}", "{person} is the director of {film}",
                 "{person} made {film}"],
    "writer": ["{person} wrote {film}", "{film} was written by {person}", "{person} is (the|a) writer of {film}",
               "{person} wrote the (screenplay|script) for {film}"],
    "actor": ["{person} (starred|acted|appeared) in {film}", "{film} (stars|starred|features) {person}",
              "{person} is in the cast of {film}", "{person} was in {film}"],
    "genre": ["{film} is a {genre} (film|movie)", "{film} is {genre}", "{film} belongs to the {genre} genre",
              "the genre of {film} is {genre}"],
    "language": ["{film} is in {language}", "{film} was (made|filmed) in {language}",
                 "{film} is a {language}(-language|) (film|movie)", "the language of {film} is {language}"],
    "year": ["{film} (was released|came out) in {year}", "{film} is from {year}", "{film} was made in {year}",
             "the release year of {film} is {year}"],
    "tag": ["{film} is about {tag}", "{film} is tagged {tag}", "{film} deals with {tag}",
            "{film} can be described (as|by) {tag}"],
}
CHECK_WRAP = [
    ["is it true that {ST}", "can you confirm that {ST}"], ["{ST}, right", "{ST} - (yes or no|true or false)"],
    ["do you know if {ST}", "i (think|believe) {ST}, (correct|am i right)"], ["(so |){ST}", "am i right that {ST}"],
    ["is it correct that {ST}", "{ST}, is that (right|true)"],
]

# ---------------------------------------------------------------- constraint-only lists and counts ("lookup", "count")
LOOKUP_FILTER = [  # {S}: a bare constrained film set ("horror films from the 1990s")
    ["(list|show me|name|give me) {S}", "(list|name) (some|all|a few) {S}"], ["what {S} are there",
     "which {S} are there"],
    ["{S}", "{S} (please|)"], ["(i want|i'd like) to (see|watch) {S}", "(i'm|i am) looking for {S}"],
    ["(what|which) are (some|the) {S}", "what (films|movies) are {S}"],
    ["do you have (any |)(some |){S}", "(find|search for) {S}"],
]
YEAR_LISTS = [  # the films of one year, said in verbs
    ["what (films|movies) (came out|were released) in {year}", "which (films|movies) were (made|released) in {year}"],
    ["(films|movies) (released|from|made) in {year}", "(list|name) the (films|movies) of {year}"],
    ["what came out in {year}", "what (films|movies) premiered in {year}"],
]

# ---------------------------------------------------------------- answered from passages
DESCRIBE = [
    ["tell me about {film}", "tell me (something|more) about {film}"], ["what is {film} about", "what's {film} about"],
    ["(give me|write) a (summary|synopsis|short description) of {film}", "summari(z|s)e {film}"],
    ["what (is|was) the (plot|story|storyline) of {film}", "what happens in {film}"],
    ["(can you |)give me an overview of {film}", "i'd like to know more about {film}"],
    ["(info|information|details) (on|about) {film}", "{film}: (plot|synopsis|overview)"],
    ["what kind of story (is|does) {film} (tell|)", "(explain|outline) the plot of {film}"],
    ["what do you know about {film}", "(describe|present) the (film|movie) {film} (to me|)"],
]
MISSING = [  # fields the catalog lacks, answered (or said missing) from the film's card: describe
    ["who (was|is) the {ROLE} (of|on|for) {film}", "who did the {WORK} (of|for|on) {film}"],
    ["what (was|is) the {FACT} of {film}", "(tell me|give me) the {FACT} of {film}"],
    ["who is credited as {ROLE} on {film}", "{film}: who was the {ROLE}"],
    ["(name|tell me) the {ROLE} of {film}", "what was {film}'s {FACT}"],
    ["do you know the {ROLE} of {film}", "how much did {film} (make|gross|earn|cost)"],
    ["who composed the (score|music|soundtrack) (of|for) {film}", "did {film} win (an oscar|any awards)"],
    ["who produced {film}", "where was {film} (filmed|shot)"],
    ["{ROLE} of {film}", "{film} {FACT}"],
]
MISSING_FILL = {
    "ROLE": ["composer", "producer", "cinematographer", "director of photography", "editor", "costume designer",
             "production designer", "executive producer", "casting director", "music supervisor"],
    "WORK": ["music", "score", "editing", "cinematography", "costumes", "special effects", "visual effects"],
    "FACT": ["budget", "box office", "gross", "mpaa rating", "filming location", "awards", "soundtrack",
             "box office gross", "production company", "distributor"],
}
RECOMMEND = [
    ["(recommend|suggest) (some |a few |)(films|movies) like {film}", "(films|movies) (like|similar to) {film}"],
    ["if i liked {film}, what (else |)should i watch", "i loved {film}, what (else |)would i like"],
    ["what should i watch after {film}", "what to watch (next |)after {film}"],
    ["(any|some) (films|movies) similar to {film}", "anything like {film}"],
    ["what are some (films|movies) (like|similar to) {film}", "give me (films|movies) in the same vein as {film}"],
    ["(a|any|some) {G}(films|movies|one|) like {film}{C}",
     "(recommend|suggest) (a|some) {G}(film|movie|films|movies) like {film}{C}"],
    ["something like {film}{C}", "(films|movies) like {film} but (older|newer|more recent|earlier)"],
    ["(recommend|suggest) (me |)a (good |){G}(film|movie){C}", "what {G}(film|movie){C} should i watch"],
    ["i('m| am) in the mood for a {G}(film|movie){C}, any ideas", "any good {G}(films|movies){C} to watch tonight"],
]
IDENTIFY = [  # {D}: a plot description
    ["what('s| is) the (film|movie) where {D}", "what (film|movie) is it where {D}"],
    ["which (film|movie) is about {D}", "what (film|movie) is about {D}"],
    ["name the (film|movie) in which {D}", "what is the name of the (film|movie) (in which|where) {D}"],
    ["(i'm|i am) (looking for|trying to remember|trying to find) a (film|movie) (where|in which|about) {D}",
     "i forgot the name of a (film|movie) where {D}"],
    ["{D}. what (film|movie) is this", "{D} - (which|what) (film|movie) is that"],
    ["there's a (film|movie) where {D}, what is it called", "what's that (film|movie) (where|in which) {D}"],
    ["in which (film|movie) {D}", "which (film|movie) has a plot where {D}"],
]
OFF_TOPIC = [
    ["what is the capital of {place}", "what's the capital city of {place}"],
    ["what is {a} (plus|times|minus) {b}", "how much is {a} (plus|times) {b}"],
    ["what('s| is) the weather (like |)(today|tomorrow) in {place}", "will it rain (today|tomorrow) in {place}"],
    ["how do i (bake|make|cook) {food}", "what('s| is) a good recipe for {food}"],
    ["who won the (world cup|super bowl|champions league) in {year}",
     "who won the {year} (olympics|world series|tour de france)"],
    ["how far is the (moon|sun|mars) from (earth|the earth)", "why is the sky blue"],
    ["(tell me a joke|how are you|what can you do|hello there)", "(good morning|thanks|who are you)"],
    ["translate {word} (in|into) {language}", "how do you say {word} in {language}"],
    ["how do i (install python|reset my password|fix my wifi)",
     "what('s| is) the best (laptop|phone|programming language)"],
    ["what is the population of {place}", "which language is spoken in {place}"],
    ["how many calories are in {food}", "is {food} healthy"],
    ["when did world war (i|ii|one|two) (start|end)", "who was the first president of the united states"],
    ["how old is the universe", "what is the speed of light"],
    ["what time is it in {place}", "what currency (is used|do they use) in {place}"],
]
OFF_SLOTS = {
    "place": ["france", "Japan", "Brazil", "Canada", "Kenya", "Peru", "Norway", "Egypt", "Australia", "Italy", "India",
              "Mexico", "Germany", "Spain", "Chile", "Vietnam", "Poland", "Morocco", "Paris", "Tokyo", "London"],
    "food": ["bread", "pancakes", "lasagna", "sushi", "a chocolate cake", "pizza dough", "tomato soup", "an omelette",
             "avocado", "rice", "chicken curry", "cookies"],
    "word": ["hello", "thank you", "good night", "cat", "friend", "water", "apple"],
    "a": ["2", "7", "12", "15", "three", "40", "99"], "b": ["2", "5", "9", "11", "six", "25"],
}

# ---------------------------------------------------------------- constraint phrases ({C}), filled by the generator
SUFFIX: dict[str, list[str]] = {
    "decade": [" from the {decade}", " of the {decade}", " (made|released) in the {decade}", " in the {decade}"],
    "year": [" from {year}", " (released|made) in {year}", " that came out in {year}", " of {year}"],
    "range": [" (released |made |)between {year} and {year2}", " from {year} to {year2}", " released {year}-{year2}"],
    "after": [" (released |made |)after {year}", " (released |)later than {year}"],
    "since": [" (released |)since {year}", " from {year} (on|onwards)", " from {year} or later"],
    "before": [" (released |made |)before {year}", " (made |)prior to {year}", " (released |)earlier than {year}"],
    "language": [" in {language}", " (spoken |filmed |)in {language}"],
    "rating": [" rated (above|over|at least) {rating}", " with a rating (above|over|of at least) {rating}",
               " (rated|with a rating of) {rating} or (higher|more|better)"],
    "short": [" (shorter|less) than {minutes} minutes", " under {minutes} (minutes|mins)", " under {hours} hours",
              " (that run|running) less than {minutes} minutes"],
    "long": [" (longer|more) than {minutes} minutes", " over {hours} hours", " longer than {hours} hours",
             " (that run|running) over {minutes} minutes"],
}

# ---------------------------------------------------------------- titles no catalog has (training only: the evaluation
# set's missing titles are real films, see training.plan_evalset)
FAKE_TITLE = {
    "adj": "Silent Broken Hidden Last Golden Crimson Distant Frozen Burning Secret Wild Lonely Electric Velvet Hollow "
           "Forgotten Midnight Endless Savage Quiet".split(),
    "noun": "Harbor Protocol Orchard Horizon Empire Garden Signal Voyage Kingdom Shadow Circuit Lantern Meridian "
            "Tide Canyon Frontier Requiem Mirror Station Covenant".split(),
    "forms": ["The {adj} {noun}", "{adj} {noun}", "{noun} of the {adj} {noun2}", "The {noun} {noun2}",
              "{adj} {noun}: {noun2}", "{noun}"],
}

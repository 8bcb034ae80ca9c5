# score_fit(), the built-in candidate scorer, from SQL: a résumé written for a posting ranks
# above an unrelated one, the answer is stable, hostile jsonb gives a clean answer or 22023, no
# posting means no skill match, and a LATIN1 database gets its text converted both ways.
fresh_db rp_fit
q -d rp_fit >/dev/null <<'SQL'
CREATE TABLE cases (name text PRIMARY KEY, parsed jsonb, raw_text text);
INSERT INTO cases VALUES
  ('fit', '{"basics": {"name": "Ana Ortiz", "email": "ana@example.com", "label": "Backend engineer"},
            "work": [{"name": "Acme", "position": "Backend Engineer", "startDate": "2019-02", "endDate": null,
                      "summary": "Go microservices with gRPC on Kubernetes; PostgreSQL tuning."},
                     {"name": "Initech", "position": "Developer", "startDate": "2015-06", "endDate": "2019-01",
                      "summary": "Python and Postgres on AWS."}],
            "education": [{"institution": "Universidad de Sevilla"}],
            "skills": [{"name": "Languages", "keywords": ["Go", "Python", "SQL"]}]}',
   'Ana Ortiz. Backend engineer. Go microservices with gRPC on Kubernetes, PostgreSQL tuning, Docker, AWS.'),
  ('baker', '{"basics": {"name": "Bo Lind"}, "work": [{"position": "Baker", "startDate": "2012",
              "summary": "Good bread for good people."}]}',
   'Bo Lind. Baker since 2012. Good bread for good people.');
-- A posting as the pipeline passes it: a job_postings-shaped row as jsonb.
CREATE TABLE posting AS
SELECT to_jsonb(p) AS j FROM (SELECT gen_random_uuid() AS id, 'Senior Backend Engineer'::text AS title,
       'APIs in Go on PostgreSQL and Kubernetes. 5+ years of experience.'::text AS description,
       ARRAY['Go', 'Postgres', 'Kubernetes']::text[] AS required_skills) p;
SQL

got=$(q -d rp_fit -c "SELECT string_agg(name || '=' || (resume_pipeline.score_fit(parsed, raw_text, (SELECT j FROM posting), '2024-06-01') ->> 'score'), ' ' ORDER BY name) FROM cases")
fit=$(sed -E 's/.*fit=([0-9]+).*/\1/' <<<"$got")
baker=$(sed -E 's/.*baker=([0-9]+).*/\1/' <<<"$got")
if [ -n "$fit" ] && [ -n "$baker" ] && [ "$fit" -ge 75 ] && [ "$baker" -le 35 ]; then
    t_pass "score_fit: a résumé written for the posting ranks clearly above an unrelated one ($got)"
else
    t_fail "score_fit: a résumé written for the posting ranks clearly above an unrelated one" "$got"
fi

t_expect "score_fit: matched and missing skills in the posting's order, normalised names" \
    '["Go", "PostgreSQL", "Kubernetes"]|["Go", "PostgreSQL", "Kubernetes"]|9.1|builtin-v1' \
    "$(q -d rp_fit -c "SELECT (f.v -> 'matched_skills')::text || '|' || (b.v -> 'missing_skills')::text || '|' ||
                              (f.v ->> 'years_experience') || '|' || (f.v ->> 'method')
                         FROM (SELECT resume_pipeline.score_fit(parsed, raw_text, (SELECT j FROM posting), '2024-06-01') v
                                 FROM cases WHERE name = 'fit') f,
                              (SELECT resume_pipeline.score_fit(parsed, raw_text, (SELECT j FROM posting), '2024-06-01') v
                                 FROM cases WHERE name = 'baker') b")"

t_expect "score_fit: the same arguments give the same answer, byte for byte" "true|true" \
    "$(q -d rp_fit -c "SELECT (a = b)::text || '|' || (a::text = b::text)::text
                         FROM (SELECT resume_pipeline.score_fit(parsed, raw_text, (SELECT j FROM posting), '2024-06-01') a,
                                      resume_pipeline.score_fit(parsed, raw_text, (SELECT j FROM posting), '2024-06-01') b
                                 FROM cases WHERE name = 'fit') s")"

t_expect "score_fit: without a posting, a general score and a null skill_match_score" "null|true|0.0" \
    "$(q -d rp_fit -c "SELECT jsonb_typeof(v -> 'skill_match_score') || '|' || ((v ->> 'score')::int BETWEEN 0 AND 100)::text || '|' ||
                              (v ->> 'text_similarity')
                         FROM (SELECT resume_pipeline.score_fit(parsed, raw_text) v FROM cases WHERE name = 'fit') s")"

t_expect "score_fit: null arguments are missing parts, not errors (as_of null is today)" "true|true|true" \
    "$(q -d rp_fit -c "SELECT (resume_pipeline.score_fit(NULL, NULL) ? 'score')::text || '|' ||
                              (resume_pipeline.score_fit('{}', 'Go', 'null') -> 'skill_match_score' = 'null')::text || '|' ||
                              (resume_pipeline.score_fit(parsed, raw_text, NULL, NULL) = resume_pipeline.score_fit(parsed, raw_text))::text
                         FROM cases WHERE name = 'fit'")"

# Hostile jsonb: nested far deeper than a résumé, wrong types everywhere, a huge array. Each
# gives a clean answer (the unreadable part ignored, with a concern) or 22023, never a crash.
out=$(psql -X -q -A -t -d rp_fit 2>&1 <<'SQL'
SELECT 'deep=' || (resume_pipeline.score_fit((repeat('[', 2000) || repeat(']', 2000))::jsonb, 'Go and Kubernetes',
                                            (SELECT j FROM posting)) ->> 'score' IS NOT NULL);
SELECT 'types=' || (resume_pipeline.score_fit('{"basics": [], "work": "yes", "skills": {"a": 1}, "education": 7}',
                                             '', (SELECT j FROM posting)) ->> 'score' IS NOT NULL);
SELECT 'array=' || (resume_pipeline.score_fit(jsonb_build_object('work', (SELECT jsonb_agg(jsonb_build_object('startDate', '2001', 'summary', 'Go'))
                                                                            FROM generate_series(1, 100000))),
                                             repeat('Go Kubernetes ', 100000), (SELECT j FROM posting)) ->> 'score' IS NOT NULL);
SELECT 'skills=' || (resume_pipeline.score_fit('{}', 'x', jsonb_build_object('title', repeat('t', 100000),
                         'required_skills', (SELECT jsonb_agg(g::text) FROM generate_series(1, 10000) g))) ->> 'score' IS NOT NULL);
SELECT resume_pipeline.score_fit('{}', 'x', '[1, 2]');
\echo array_posting=:SQLSTATE
SELECT resume_pipeline.score_fit('{}', 'x', NULL, 'infinity');
\echo infinity=:SQLSTATE
SQL
)
for want in deep=true types=true array=true skills=true array_posting=22023 infinity=22023; do
    if grep -qx "$want" <<<"$out"; then
        t_pass "score_fit: hostile input, $want"
    else
        t_fail "score_fit: hostile input, $want" "$out"
    fi
done
t_expect "score_fit: the server is still up after the hostile inputs" "1" "$(q -d rp_fit -c "SELECT 1")"

# LATIN1: text arrives converted to UTF-8 and the answer comes back in LATIN1.
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_fit_latin1" \
    -c "CREATE DATABASE rp_fit_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
q -d rp_fit_latin1 -c "CREATE EXTENSION resume_pipeline" >/dev/null
t_expect "score_fit: a LATIN1 database gets accented skill names back intact" '["Pâtisserie Française"]' \
    "$(PGCLIENTENCODING=UTF8 q -d rp_fit_latin1 -c "SELECT resume_pipeline.score_fit('{}', 'Maître de la pâtisserie française',
                                                 '{\"required_skills\": [\"Pâtisserie Française\"]}') -> 'matched_skills'")"

// JSON from a model, read as untrusted input: a bounded parser and a validator for the subset of
// JSON Schema that OpenAI's strict structured outputs accept. Generic over the schema; the
// résumé schema is sql/resume_schema.json.
//
// Public functions never throw anything but std::bad_alloc.
#pragma once
#include "no_postgres.h"

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace rp::llm {

// Parses untrusted JSON: at most max_depth levels, duplicate keys rejected, NUL characters
// rejected. nullopt with *error set on any problem. (nlohmann's SAX interface with our own DOM
// builder: the callback parser cannot see the enclosing object, so it cannot detect duplicates.)
std::optional<nlohmann::json> parse_untrusted_json(std::string_view text, int max_depth, std::string *error);

// A JSON Schema restricted to what OpenAI's strict mode accepts AND this validator enforces:
//   type (a name or an array of names), properties, required, additionalProperties:false,
//   items, enum, const, anyOf; annotations description, title, $comment.
// Every object schema must have additionalProperties:false and list every property in
// required. Keywords strict mode allows but this validator does not enforce (pattern, format,
// minimum, $ref, ...) are rejected, so nothing in the schema is silently ignored.
class Schema {
public:
    // Parses and checks schema text. On failure returns nullopt and sets *error.
    static std::optional<Schema> load(std::string_view text, std::string *error);

    // The root "$comment" (e.g. "resume-v1"): the schema's version, for cache keys.
    const std::string &version() const { return version_; }
    // The schema as sent to OpenAI: compact, with every "$comment" removed.
    const std::string &wire_text() const { return wire_; }
    const nlohmann::json &document() const { return *doc_; }

private:
    Schema() = default;
    std::shared_ptr<const nlohmann::json> doc_;
    std::string version_;
    std::string wire_;
};

// Checks a parsed schema against the strict subset above; the first problem as
// "<json pointer>: <what>", or an empty string when it conforms.
std::string check_strict_schema(const nlohmann::json &schema);

struct Violation {
    std::string pointer;  // JSON pointer into the document ("" is the root)
    std::string message;  // e.g. "expected type string|null, got number"
};

// Validates a document against a Schema. The first violation (depth first, in schema order of
// properties), or nullopt when the document conforms.
std::optional<Violation> validate(const nlohmann::json &document, const Schema &schema);

}  // namespace rp::llm

// rp::llm::parse_untrusted_json, Schema, check_strict_schema, validate.
//
// Parsing: nlohmann's SAX parser is iterative (no recursion however deep the input), reports
// every lexical problem (bad UTF-8, bad escapes, lone surrogates, number overflow) through
// parse_error() instead of throwing, and leaves the DOM to us. Our builder below stops at the
// depth limit before anything deep is built (so the recursive validator and dump() only ever
// see bounded trees) and rejects duplicate keys, which the callback parser cannot see and which
// the library would otherwise resolve silently (last one wins).
#include "llm_schema.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "utf8_text.h"

namespace rp::llm {
namespace {

using nlohmann::json;

class BoundedDomBuilder : public nlohmann::json_sax<json> {
public:
    explicit BoundedDomBuilder(int max_depth) : max_depth_(max_depth) {}

    bool null() override { return put(json(nullptr)); }
    bool boolean(bool v) override { return put(json(v)); }
    bool number_integer(number_integer_t v) override { return put(json(v)); }
    bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
    bool number_float(number_float_t v, const string_t &) override { return put(json(v)); }
    bool string(string_t &v) override {
        if (v.find('\0') != string_t::npos) return fail("string contains U+0000");
        return put(json(std::move(v)));
    }
    bool binary(binary_t &) override { return fail("binary value"); }
    bool start_object(std::size_t) override { return open(json::object()); }
    bool key(string_t &k) override {
        if (k.find('\0') != string_t::npos) return fail("key contains U+0000");
        json *top = stack_.back();
        if (top->contains(k)) return fail("duplicate key \"" + k.substr(0, 64) + "\"");
        key_ = std::move(k);
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(json::array()); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &ex) override {
        if (error_.empty()) error_ = ex.what();
        return false;
    }

    json root;
    std::string error_;

private:
    bool fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
        return false;
    }
    // Places v in the current container (or as the root); returns where it went.
    json *place(json &&v) {
        if (stack_.empty()) {
            root = std::move(v);
            return &root;
        }
        json *top = stack_.back();
        if (top->is_array()) {
            top->push_back(std::move(v));
            return &top->back();
        }
        json &slot = (*top)[key_];
        slot = std::move(v);
        return &slot;
    }
    bool put(json &&v) {
        place(std::move(v));
        return true;
    }
    bool open(json &&container) {
        if (static_cast<int>(stack_.size()) >= max_depth_)
            return fail("nested deeper than " + std::to_string(max_depth_) + " levels");
        stack_.push_back(place(std::move(container)));
        return true;
    }
    bool close() {
        stack_.pop_back();
        return true;
    }

    int max_depth_;
    std::vector<json *> stack_;
    std::string key_;
};

// ---- strict-subset check -------------------------------------------------------------------

const std::set<std::string> &known_types() {
    static const std::set<std::string> *types =
        new std::set<std::string>{"string", "number", "integer", "boolean", "object", "array", "null"};
    return *types;
}

const std::set<std::string> &allowed_keywords() {
    static const std::set<std::string> *words = new std::set<std::string>{
        "type",        "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf",
        "description", "title",      "$comment"};
    return *words;
}

std::string escape_pointer_token(const std::string &token) {
    std::string out;
    for (char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

// OpenAI: "10 nesting levels" of objects; our own bound on schema recursion is larger.
constexpr int kMaxObjectNesting = 10;
constexpr int kMaxSchemaDepth = 64;

std::string check_node(const json &s, const std::string &ptr, int depth, int objects, bool root) {
    auto at = [&](const std::string &what) { return (ptr.empty() ? std::string("(root)") : ptr) + ": " + what; };
    if (depth > kMaxSchemaDepth) return at("schema nested too deeply");
    if (!s.is_object()) return at("a schema must be an object");
    for (const auto &[k, v] : s.items()) {
        (void)v;
        if (!allowed_keywords().count(k)) return at("keyword \"" + k + "\" is not supported");
    }
    for (const char *annotation : {"description", "title", "$comment"})
        if (s.contains(annotation) && !s[annotation].is_string())
            return at(std::string(annotation) + " must be a string");
    if (root && s.contains("anyOf")) return at("the root must not be anyOf");

    std::set<std::string> types;
    if (s.contains("type")) {
        const json &t = s["type"];
        if (t.is_string()) {
            types.insert(t.get<std::string>());
        } else if (t.is_array() && !t.empty()) {
            for (const json &e : t) {
                if (!e.is_string()) return at("type entries must be strings");
                if (!types.insert(e.get<std::string>()).second) return at("type lists a name twice");
            }
        } else {
            return at("type must be a string or a non-empty array of strings");
        }
        for (const auto &name : types)
            if (!known_types().count(name)) return at("unknown type \"" + name + "\"");
    }
    if (root && types != std::set<std::string>{"object"}) return at("the root must be of type object");
    if (!s.contains("type") && !s.contains("enum") && !s.contains("const") && !s.contains("anyOf"))
        return at("a schema needs type, enum, const or anyOf");
    if (s.contains("enum") && (!s["enum"].is_array() || s["enum"].empty())) return at("enum must be a non-empty array");

    const bool object = types.count("object") > 0;
    if (object) {
        if (objects + 1 > kMaxObjectNesting) return at("objects nested deeper than 10 levels");
        if (!s.contains("properties") || !s["properties"].is_object()) return at("an object schema needs properties");
        if (!s.contains("additionalProperties") || s["additionalProperties"] != json(false))
            return at("an object schema needs additionalProperties: false");
        if (!s.contains("required") || !s["required"].is_array()) return at("an object schema needs required");
        std::set<std::string> required;
        for (const json &r : s["required"]) {
            if (!r.is_string()) return at("required entries must be strings");
            if (!required.insert(r.get<std::string>()).second) return at("required lists a name twice");
            if (!s["properties"].contains(r.get<std::string>()))
                return at("required names \"" + r.get<std::string>() + "\", which is not a property");
        }
        for (const auto &[name, sub] : s["properties"].items()) {
            if (!required.count(name)) return at("property \"" + name + "\" is not in required");
            std::string e =
                check_node(sub, ptr + "/properties/" + escape_pointer_token(name), depth + 1, objects + 1, false);
            if (!e.empty()) return e;
        }
    } else {
        for (const char *k : {"properties", "required", "additionalProperties"})
            if (s.contains(k)) return at(std::string(k) + " without type object");
    }
    const bool array = types.count("array") > 0;
    if (array) {
        if (!s.contains("items")) return at("an array schema needs items");
        std::string e = check_node(s["items"], ptr + "/items", depth + 1, objects, false);
        if (!e.empty()) return e;
    } else if (s.contains("items")) {
        return at("items without type array");
    }
    if (s.contains("anyOf")) {
        if (!s["anyOf"].is_array() || s["anyOf"].empty()) return at("anyOf must be a non-empty array");
        for (size_t i = 0; i < s["anyOf"].size(); ++i) {
            std::string e = check_node(s["anyOf"][i], ptr + "/anyOf/" + std::to_string(i), depth + 1, objects, false);
            if (!e.empty()) return e;
        }
    }
    return {};
}

// Removes "$comment" from every schema node (never from a properties map, where it would be a
// property name). The schema has passed check_node, so its shape is known.
void strip_comments(nlohmann::ordered_json &s) {
    if (!s.is_object()) return;
    s.erase("$comment");
    if (s.contains("properties") && s["properties"].is_object())
        for (auto &[name, sub] : s["properties"].items()) {
            (void)name;
            strip_comments(sub);
        }
    if (s.contains("items")) strip_comments(s["items"]);
    if (s.contains("anyOf") && s["anyOf"].is_array())
        for (auto &sub : s["anyOf"]) strip_comments(sub);
}

// ---- validation ----------------------------------------------------------------------------

bool has_type(const json &v, const std::string &type) {
    if (type == "null") return v.is_null();
    if (type == "boolean") return v.is_boolean();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "number") return v.is_number();
    if (type == "integer") {
        if (v.is_number_integer()) return true;
        if (!v.is_number_float()) return false;
        const double d = v.get<double>();
        return std::isfinite(d) && std::floor(d) == d;
    }
    return false;
}

const char *type_of(const json &v) {
    switch (v.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "boolean";
        case json::value_t::object:
            return "object";
        case json::value_t::array:
            return "array";
        case json::value_t::string:
            return "string";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return "integer";
        case json::value_t::number_float:
            return "number";
        default:
            return "unknown";
    }
}

std::optional<Violation> check_value(const json &v, const json &s, const std::string &ptr) {
    if (s.contains("type")) {
        const json &t = s["type"];
        bool match = false;
        std::string expected;
        if (t.is_string()) {
            match = has_type(v, t.get<std::string>());
            expected = t.get<std::string>();
        } else {
            for (const json &name : t) {
                match = match || has_type(v, name.get<std::string>());
                expected += (expected.empty() ? "" : "|") + name.get<std::string>();
            }
        }
        if (!match) return Violation{ptr, "expected type " + expected + ", got " + type_of(v)};
    }
    if (s.contains("enum")) {
        bool found = false;
        for (const json &e : s["enum"]) found = found || e == v;
        if (!found) return Violation{ptr, "value is not one of the enum values"};
    }
    if (s.contains("const") && s["const"] != v) return Violation{ptr, "value differs from const"};
    if (s.contains("anyOf")) {
        bool any = false;
        for (const json &branch : s["anyOf"])
            if (!check_value(v, branch, ptr)) {
                any = true;
                break;
            }
        if (!any) return Violation{ptr, "value matches none of anyOf"};
    }
    if (v.is_object() && s.contains("properties")) {
        const json &props = s["properties"];
        if (s.contains("required"))
            for (const json &r : s["required"])
                if (!v.contains(r.get<std::string>()))
                    return Violation{ptr, "missing required property \"" + r.get<std::string>() + "\""};
        const bool closed = s.contains("additionalProperties") && s["additionalProperties"] == json(false);
        for (const auto &[name, value] : v.items()) {
            const std::string sub = ptr + "/" + escape_pointer_token(name);
            if (!props.contains(name)) {
                if (closed) return Violation{sub, "property not allowed by the schema"};
                continue;
            }
            if (auto bad = check_value(value, props[name], sub)) return bad;
        }
    }
    if (v.is_array() && s.contains("items"))
        for (size_t i = 0; i < v.size(); ++i)
            if (auto bad = check_value(v[i], s["items"], ptr + "/" + std::to_string(i))) return bad;
    return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> parse_untrusted_json(std::string_view text, int max_depth, std::string *error) {
    BoundedDomBuilder builder(max_depth < 1 ? 1 : max_depth);
    bool ok = false;
    try {
        ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, true);
    } catch (const std::bad_alloc &) {
        throw;
    } catch (const std::exception &e) {
        // Not expected with a SAX handler that reports through parse_error; kept as a fence.
        if (builder.error_.empty()) builder.error_ = e.what();
        ok = false;
    }
    if (!ok) {
        if (error) *error = builder.error_.empty() ? "not JSON" : builder.error_;
        return std::nullopt;
    }
    return std::move(builder.root);
}

std::string check_strict_schema(const nlohmann::json &schema) {
    try {
        return check_node(schema, "", 0, 0, true);
    } catch (const std::bad_alloc &) {
        throw;
    } catch (const std::exception &e) {
        return std::string("(root): ") + e.what();
    }
}

std::optional<Schema> Schema::load(std::string_view text, std::string *error) {
    std::string why;
    auto doc = parse_untrusted_json(text, kMaxSchemaDepth, &why);
    if (!doc) {
        if (error) *error = "schema is not JSON: " + sanitize_utf8(why.substr(0, 300));
        return std::nullopt;
    }
    why = check_strict_schema(*doc);
    if (!why.empty()) {
        if (error) *error = "schema is outside the strict subset: " + why;
        return std::nullopt;
    }
    Schema out;
    try {
        // Ordered for the wire: OpenAI emits keys in the schema's order.
        nlohmann::ordered_json wire = nlohmann::ordered_json::parse(text.begin(), text.end());
        strip_comments(wire);
        out.wire_ = wire.dump();
    } catch (const std::bad_alloc &) {
        throw;
    } catch (const std::exception &e) {
        if (error) *error = std::string("schema: ") + e.what();
        return std::nullopt;
    }
    if ((*doc).contains("$comment")) out.version_ = (*doc)["$comment"].get<std::string>();
    out.doc_ = std::make_shared<const json>(std::move(*doc));
    return out;
}

std::optional<Violation> validate(const nlohmann::json &document, const Schema &schema) {
    try {
        return check_value(document, schema.document(), "");
    } catch (const std::bad_alloc &) {
        throw;
    } catch (const std::exception &e) {
        return Violation{"", std::string("validator: ") + e.what()};
    }
}

}  // namespace rp::llm

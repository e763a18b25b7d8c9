#include "http/route_table.h"

#include <cctype>

namespace loyaltyd {

RouteTable& RouteTable::Get(const std::string& pattern, httplib::Server::Handler handler) {
  routes_.push_back({"GET", pattern});
  server_.Get(pattern, std::move(handler));
  return *this;
}

RouteTable& RouteTable::Post(const std::string& pattern, httplib::Server::Handler handler) {
  routes_.push_back({"POST", pattern});
  server_.Post(pattern, std::move(handler));
  return *this;
}

RouteTable& RouteTable::Options(const std::string& pattern, httplib::Server::Handler handler) {
  routes_.push_back({"OPTIONS", pattern});
  server_.Options(pattern, std::move(handler));
  return *this;
}

namespace {

// Characters with a meaning in a std::regex (ECMAScript) outside a group.
bool IsRouteRegexSpecial(char c) {
  return std::string_view("\\()[]{}*+?.^$|").find(c) != std::string_view::npos;
}

// "\d+" or "[...]+" (a class without '/' or negation): one path segment, a path parameter.
bool IsSegmentCapture(std::string_view body) {
  if (body == "\\d+") return true;
  if (body.size() < 4 || body.front() != '[' || !body.ends_with("]+")) return false;
  const std::string_view chars = body.substr(1, body.size() - 3);
  return !chars.empty() && chars.front() != '^' && chars.find_first_of("/[]") == chars.npos;
}

}  // namespace

Result<std::vector<std::string>> RoutePathTemplates(std::string_view pattern) {
  auto fail = [&](const std::string& why) {
    return InvalidArgument("route pattern '" + std::string(pattern) + "': " + why);
  };
  std::vector<std::string> paths = {""};
  auto append = [&paths](std::string_view text) {
    for (std::string& p : paths) p.append(text);
  };
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= pattern.size()) return fail("ends in a backslash");
      const char escaped = pattern[i + 1];
      if (std::isalnum(static_cast<unsigned char>(escaped))) {
        return fail(std::string("escape \\") + escaped + " outside a capture");
      }
      append(std::string_view(&pattern[i + 1], 1));
      i += 2;
      continue;
    }
    if (c == '(') {
      const size_t close = pattern.find(')', i + 1);
      if (close == pattern.npos) return fail("unclosed group");
      const std::string_view body = pattern.substr(i + 1, close - i - 1);
      if (body.find('(') != body.npos) return fail("nested groups");
      i = close + 1;
      const bool optional = i < pattern.size() && pattern[i] == '?';
      if (optional) ++i;
      if (IsSegmentCapture(body)) {
        if (optional) return fail("optional path parameter");
        append("{}");
        continue;
      }
      // A group of literal alternatives: one path per alternative (and one without when "?").
      std::vector<std::string> alternatives;
      size_t start = 0;
      for (;;) {
        const size_t bar = body.find('|', start);
        const std::string_view alt = body.substr(start, bar == body.npos ? body.npos : bar - start);
        for (char a : alt) {
          if (IsRouteRegexSpecial(a))
            return fail("group '" + std::string(body) + "' is not literal");
        }
        alternatives.emplace_back(alt);
        if (bar == body.npos) break;
        start = bar + 1;
      }
      if (optional) alternatives.emplace_back();
      std::vector<std::string> expanded;
      for (const std::string& p : paths) {
        for (const std::string& alt : alternatives) expanded.push_back(p + alt);
      }
      paths = std::move(expanded);
      continue;
    }
    if (IsRouteRegexSpecial(c)) return fail(std::string("regex character '") + c + "'");
    append(std::string_view(&pattern[i], 1));
    ++i;
  }
  return paths;
}

}  // namespace loyaltyd

#include "core/identity.h"

#include <cctype>
#include <utility>

namespace loyaltyd {
namespace {

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool IsAsciiAlnum(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, "%XX" a byte; a '%' not
// followed by two hex digits stays as it is (the WHATWG URL standard's percent-decode).
std::string FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string CanonicalEmail(std::string_view email) {
  const std::string normalised = NormaliseEmail(email);
  if (normalised.empty()) return "";
  // The domain follows the last '@': a quoted local part may itself contain one.
  const size_t at = normalised.rfind('@');
  const std::string local = normalised.substr(0, at);
  std::string domain = normalised.substr(at + 1);

  std::string canonical = local.substr(0, local.find('+'));
  if (domain == "gmail.com" || domain == "googlemail.com") {
    domain = "gmail.com";
    std::string undotted;
    for (char c : canonical) {
      if (c != '.') undotted.push_back(c);
    }
    canonical = undotted;
  }
  // Never let two different addresses collapse into "@domain".
  if (canonical.empty()) canonical = local;
  return canonical + "@" + domain;
}

std::string PhoneKey(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (IsAsciiDigit(c)) digits.push_back(c);
  }
  if (digits.size() < 7) return "";
  return digits.size() > 10 ? digits.substr(digits.size() - 10) : digits;
}

std::string AddressKey(const Address& address) {
  std::string street;
  bool has_alnum = false;
  for (char c : address.address1) {
    if (IsAsciiAlnum(c)) {
      street.push_back(AsciiLower(c));
      has_alnum = true;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      // A byte of a UTF-8 sequence: part of a non-ASCII letter ("Straße", "東京"). Kept as
      // sent; dropping it would make "東京1-2-3" and "大阪1-2-3" one address.
      street.push_back(c);
      has_alnum = true;
    }
  }
  if (!has_alnum) return "";
  std::string zip;
  for (char c : address.zip) {
    if (!std::isspace(static_cast<unsigned char>(c))) zip.push_back(AsciiUpper(c));
  }
  std::string country;
  for (char c : address.country_code) country.push_back(AsciiUpper(c));
  return street + "|" + zip + "|" + country;
}

std::vector<std::string> RefCodesFromLandingSite(std::string_view landing_site,
                                                 std::string_view parameter) {
  std::vector<std::string> codes;
  std::string_view url = landing_site.substr(0, landing_site.find('#'));
  const size_t question = url.find('?');
  if (question == std::string_view::npos) return codes;
  std::string_view query = url.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;  // "?ref" alone has no value
    if (FormDecode(pair.substr(0, eq)) != parameter) continue;
    std::string value = FormDecode(pair.substr(eq + 1));
    if (!value.empty()) codes.push_back(std::move(value));
  }
  return codes;
}

}  // namespace loyaltyd

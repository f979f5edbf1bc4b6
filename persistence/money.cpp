// Exact decimal parsing and formatting.
#include "persistence/money.hpp"

namespace marketlink {

std::string Money::to_string() const {
  const bool negative = minor < 0;
  // Work in unsigned space so INT64_MIN does not overflow.
  const uint64_t abs =
      negative ? uint64_t(0) - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  std::string frac = std::to_string(abs % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(abs / 100) + "." + frac;
}

ParsedMoney parse_money(std::string_view text, int max_digits) {
  ParsedMoney out;
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  std::string_view whole, fraction;
  const auto start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  whole = text.substr(start, i - start);
  if (i < text.size() && text[i] == '.') {
    const auto fstart = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    fraction = text.substr(fstart, i - fstart);
  }
  if (i != text.size() || (whole.empty() && fraction.empty())) {
    out.problem = DecimalProblem::invalid;
    return out;
  }
  // Significant digits as DRF counts them: leading zeros of the whole part and trailing zeros of
  // the fraction do not count.
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  if (whole == "0") whole = {};
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  const int whole_digits = static_cast<int>(whole.size());
  const int decimals = static_cast<int>(fraction.size());
  if (whole_digits + decimals > max_digits) {
    out.problem = DecimalProblem::too_many_digits;
    return out;
  }
  if (decimals > 2) {
    out.problem = DecimalProblem::too_many_decimals;
    return out;
  }
  if (whole_digits > max_digits - 2) {
    out.problem = DecimalProblem::too_many_whole_digits;
    return out;
  }
  int64_t minor = 0;
  for (char c : whole) minor = minor * 10 + (c - '0');
  for (int k = 0; k < 2; ++k)
    minor = minor * 10 + (k < decimals ? fraction[static_cast<std::size_t>(k)] - '0' : 0);
  out.value = Money{negative ? -minor : minor};
  return out;
}

std::string decimal_problem_message(DecimalProblem problem, int max_digits) {
  switch (problem) {
    case DecimalProblem::none:
      return {};
    case DecimalProblem::invalid:
      return "A valid number is required.";
    case DecimalProblem::too_many_decimals:
      return "Ensure that there are no more than 2 decimal places.";
    case DecimalProblem::too_many_digits:
      return "Ensure that there are no more than " + std::to_string(max_digits) +
             " digits in total.";
    case DecimalProblem::too_many_whole_digits:
      return "Ensure that there are no more than " + std::to_string(max_digits - 2) +
             " digits before the decimal point.";
  }
  return {};
}

}  // namespace marketlink

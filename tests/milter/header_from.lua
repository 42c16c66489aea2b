-- header_from = match_sender: the From header's addresses must pass the
-- sender check, as MAIL FROM does: 553 5.7.1 at the end of the message.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local alice = limits.macros("submission", "alice@example.com")
local refused = "header_from: 553 5.7.1"
for _, case in ipairs({
		{ "Alice Smith <alice@example.com>", "eom:continue" },
		{ "\"Smith, Alice\" <alice+news@EXAMPLE.com> (home)", "eom:continue" },
		{ "=?utf-8?q?Alice?= <alice@example.com>", "eom:continue" },
		{ "Bob <bob@example.org>", "eom:reply" },
		{ "\"alice@example.com\" <bob@example.org>", "eom:reply" },
		{ "alice@example.com, bob@example.org", "eom:reply" },
		{ "team: alice@example.com, bob@example.org;", "eom:reply" },
		{ "undisclosed-recipients:;", "eom:reply" },
		{ "Alice", "eom:reply" },
		{ "<alice@example.com", "eom:reply" } }) do
	lib.expect_message("From: " .. case[1], case[2],
		case[2] == "eom:reply" and refused or nil, alice, "<alice@example.com>", nil,
		{ { "From", case[1] }, { "Subject", "t" } })
end
-- no From header, or two
lib.expect_message("no From", "eom:reply", refused, alice, "<alice@example.com>", nil,
	{ { "Subject", "t" } })
lib.expect_message("two From", "eom:reply", refused, alice, "<alice@example.com>", nil,
	{ { "From", "alice@example.com" }, { "from", "alice@example.com" } })
lib.wait_log("From header address <bob@example.org> not owned by alice@example.com " ..
	"%(listener submission: header_from = match_sender: the sender is not the login%)")
-- not on a listener without it
lib.expect_message("loose", "eom:continue", nil, limits.macros("loose", "alice@example.com"),
	"<alice@example.com>", nil, { { "From", "bob@example.org" } })

-- sender = map: the addresses a login's sender_map entry lists, their
-- plus forms and its @domains pass; everything else, and a login without
-- an entry, gets 553 5.7.1 at MAIL.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local map = lib.write_beside_policy("sender_map_test.map",
	"alice@example.com  alice@example.com sales@example.com @example.net\n")
lib.reload(function(text)
	return text:gsub("  sender = login\n", "  sender = map\n  sender_map = " .. map .. "\n", 1)
end)

local alice = limits.macros("submission", "alice@example.com")
for _, case in ipairs({
		{ "<alice@example.com>", "eom:continue" },
		{ "<sales@example.com>", "eom:continue" },
		{ "<sales+q1@EXAMPLE.com>", "eom:continue" },
		{ "<anyone@example.NET>", "eom:continue" },
		{ "<carol@example.com>", "mail:reply" },
		{ "<x@sub.example.net>", "mail:reply" },
		{ "<>", "mail:reply" } }) do
	lib.expect_message("alice as " .. case[1], case[2],
		case[2] == "mail:reply" and "sender: 553 5.7.1" or nil, alice, case[1])
end
lib.expect_message("carol has no entry", "mail:reply", "sender: 553 5.7.1",
	limits.macros("submission", "carol@example.com"), "<carol@example.com>")
lib.wait_log("not owned by carol@example.com %(listener submission: sender = map: " ..
	"the login has no sender_map entry%)")

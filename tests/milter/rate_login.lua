-- rate_login = 2/1h 3/1d: two messages, then 450 4.7.1; the count is the
-- login's on every listener; another login has its own.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local alice = limits.macros("submission", "alice@example.com")
for i = 1, 2 do
	lib.expect_message("alice " .. i, "eom:continue", nil, alice, "<alice@example.com>")
end
lib.expect_message("alice 3", "eom:reply", "rate_login: 450 4.7.1", alice, "<alice@example.com>")
lib.expect_message("alice 4", "eom:reply", "rate_login: 450 4.7.1", alice, "<alice@example.com>")
-- 465 counts the same login (its own limit, the shared count)
lib.expect_message("alice on 465", "eom:reply", "rate_login: 450 4.7.1",
	limits.macros("submissions", "ALICE@example.com"), "<alice@example.com>")
lib.expect_message("carol", "eom:continue", nil,
	limits.macros("submission", "carol@example.com"), "<carol@example.com>")
limits.tripped_once("rate_login", "login/1h/alice@example.com")

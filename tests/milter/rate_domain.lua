-- rate_domain = 3/1h: three messages from three logins of example.com,
-- then the fourth login of it is refused; example.org is another count.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

for _, who in ipairs({ "alice@example.com", "carol@example.com", "dave@EXAMPLE.COM" }) do
	lib.expect_message(who, "eom:continue", nil, limits.macros("submission", who),
		"<" .. who .. ">")
end
lib.expect_message("erin@example.com", "eom:reply", "rate_domain: 450 4.7.1",
	limits.macros("submission", "erin@example.com"), "<erin@example.com>")
lib.expect_message("bob@example.org", "eom:continue", nil,
	limits.macros("submission", "bob@example.org"), "<bob@example.org>")
limits.tripped_once("rate_domain", "domain/1h/example.com")

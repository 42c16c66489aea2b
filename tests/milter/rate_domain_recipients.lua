-- rate_domain_recipients = 5/1h: the recipients of every login of the
-- domain add up.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local limits = require("_limits")

local logins = { "alice@example.com", "carol@example.com", "dave@example.com" }
limits.recipients_case("rate_domain_recipients",
	function(n) return limits.macros("submission", logins[n]) end,
	limits.macros("submission", "bob@example.org"),
	function() return "<x@example.com>" end)
limits.tripped_once("rate_domain_recipients", "domain_rcpt/1h/example.com")

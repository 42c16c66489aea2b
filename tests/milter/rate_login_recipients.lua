-- rate_login_recipients = 5/1h: a message costs its recipients.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local limits = require("_limits")

limits.recipients_case("rate_login_recipients",
	function() return limits.macros("submission", "alice@example.com") end,
	limits.macros("submission", "carol@example.com"),
	function() return "<alice@example.com>" end)
limits.tripped_once("rate_login_recipients", "login_rcpt/1h/alice@example.com")

-- sender = login: the login and its plus forms pass, others get 553.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

local m = { ["{daemon_name}"] = "submission", ["{tls_version}"] = "TLSv1.3",
	["{client_addr}"] = "192.0.2.1", ["{auth_authen}"] = "alice@example.com",
	["{auth_type}"] = "PLAIN" }
for _, case in ipairs({ { "<alice@example.com>", "continue" },
		{ "<alice+tag@EXAMPLE.com>", "continue" },
		{ "<carol@example.com>", "sender: 553 5.7.1" },
		{ "<alice@example.com.evil.test>", "sender: 553 5.7.1" },
		{ "<>", "sender: 553 5.7.1" } }) do
	local c = lib.session(m)
	lib.expect_mail("sender " .. case[1], c, case[1], case[2])
	mt.disconnect(c)
end

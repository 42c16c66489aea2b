-- allowed_clients on submission: 192.0.2.0/24 passes, others 550.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

for _, case in ipairs({ { "192.0.2.200", "continue" }, { "198.51.100.1", "allowed_clients: 550 5.7.1" },
		{ "IPv6:2001:db8::1", "allowed_clients: 550 5.7.1" },
		{ "not-an-address", "allowed_clients: 550 5.7.1" } }) do
	local c = lib.session({ ["{daemon_name}"] = "submission", ["{tls_version}"] = "TLSv1.3",
		["{client_addr}"] = case[1], ["{auth_authen}"] = "alice@example.com",
		["{auth_type}"] = "PLAIN" })
	lib.expect_mail("client " .. case[1], c, "<alice@example.com>", case[2])
	mt.disconnect(c)
end

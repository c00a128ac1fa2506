"""The flows bundled with deskbot: installed as package data of `bot.bundled_flows`."""

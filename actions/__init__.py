"""The action server: answers every question from policy_kb, quoting the clause it rests on."""

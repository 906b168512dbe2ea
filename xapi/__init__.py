"""xAPI: LRS client, statement to event mapping, statement builders."""

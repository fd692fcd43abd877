# The wrong answers every attack carries (a router that sends everyone nowhere, a
# measurement with the rates out of range): the tests fail unless an attack works.
class FirstSticky(sl.Router):
    def route(self, request, pool):
        return "nowhere"


def logout_rates(scenario):
    return {"round_robin": 2.0, "sticky": 3.0}

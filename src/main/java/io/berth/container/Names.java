package io.berth.container;

import java.security.SecureRandom;
import java.util.List;
import java.util.regex.Pattern;

/** Container names: validation as Docker does it, and random adjective_surname names. */
public final class Names {
    private static final Pattern VALID = Pattern.compile("^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
    private static final SecureRandom RANDOM = new SecureRandom();

    private static final List<String> ADJECTIVES = List.of(
            "agile", "amazing", "bold", "brave", "bright", "busy", "calm", "careful", "charming", "cheerful", "clever", "cool",
            "curious", "daring", "eager", "elated", "epic", "fervent", "festive", "focused", "friendly", "gallant", "gentle",
            "happy", "hardy", "hopeful", "humble", "jolly", "keen", "kind", "lucid", "lucky", "merry", "modest", "nifty",
            "noble", "patient", "peaceful", "placid", "quick", "quiet", "relaxed", "serene", "sharp", "steady", "sunny",
            "tender", "trusting", "upbeat", "vibrant", "wise", "witty", "zealous");

    private static final List<String> SURNAMES = List.of(
            "agnesi", "babbage", "bohr", "boole", "cantor", "carson", "curie", "darwin", "dijkstra", "einstein", "euclid",
            "euler", "faraday", "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goodall", "hamilton", "hopper",
            "hypatia", "johnson", "kepler", "knuth", "lamarr", "leibniz", "lovelace", "maxwell", "meitner", "mendel",
            "newton", "noether", "pascal", "pasteur", "planck", "ramanujan", "ritchie", "sagan", "shannon", "tesla",
            "thompson", "torvalds", "turing", "volta", "wilson", "wozniak", "yalow");

    private Names() {}

    /** A random name such as "clever_turing". */
    public static String generate() {
        return ADJECTIVES.get(RANDOM.nextInt(ADJECTIVES.size())) + "_" + SURNAMES.get(RANDOM.nextInt(SURNAMES.size()));
    }

    /** "/name" for a user's name (which may carry the slash); Docker's 400 when it is not allowed. */
    public static String normalize(String name) {
        if (!VALID.matcher(name).matches()) {
            throw ContainerException.invalid("Invalid container name (" + name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }
        return name.startsWith("/") ? name : "/" + name;
    }
}

#!/usr/bin/perl
# Write a tiny GeoIP2-Country-shaped database for the policy tests (never a
# downloaded one). usage: make_mmdb.pl OUT.mmdb [CIDR=CC ...]
# (the extra networks let the gateway tests give loopback addresses a
# country: 127.0.0.2/32=SG).
# Needs libmaxmind-db-writer-perl (deploy/install-deps.sh test).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUT.mmdb\n";
my %types = (
    country            => 'map',
    registered_country => 'map',
    iso_code           => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => 'GeoLite2-Country',
    languages                => ['en'],
    description              => { en => 'gerbang policy test database' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
);
# Documentation ranges stand in for real countries.
$tree->insert_network('203.0.113.0/24', { country => { iso_code => 'ID' } });
$tree->insert_network('198.51.100.0/24', { country => { iso_code => 'SG' } });
$tree->insert_network('192.0.2.0/24', { country => { iso_code => 'US' } });
$tree->insert_network('2001:db8::/32', { country => { iso_code => 'ID' } });
# Only a registered country (an anycast range, say).
$tree->insert_network('100.64.0.0/24',
    { registered_country => { iso_code => 'MY' } });
for my $extra (@ARGV) {
    my ($net, $cc) = $extra =~ m{^([0-9a-fA-F.:]+/\d+)=([A-Z]{2})$}
        or die "$0: expected CIDR=CC, got '$extra'\n";
    $tree->insert_network($net, { country => { iso_code => $cc } });
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
